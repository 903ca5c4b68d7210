"""Relay connections over keyset pagination (by row id)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import Any

from fieldgate.errors import BadUserInput
from fieldgate.resolvers.identifiers import INTEGER_MAX, row_id

CURSOR_PREFIX = "cursor:"
DEFAULT_PAGE = 20


def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{row_id}".encode()).decode()


def decode_cursor(cursor: str, largest: int = INTEGER_MAX) -> int:
    """The row id behind an opaque cursor, within 1..``largest`` (its column's range);
    anything else is a ``BAD_USER_INPUT``."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("ascii")
    except (ValueError, UnicodeError, binascii.Error):
        text = ""
    value = row_id(text.removeprefix(CURSOR_PREFIX), largest)
    if not text.startswith(CURSOR_PREFIX) or value is None:
        raise BadUserInput("invalid cursor", argument="after")
    return value


def page_size(first: int | None, cap: int) -> int:
    """``first`` within 1..cap (larger values are capped), default 20."""
    if first is None:
        return min(DEFAULT_PAGE, cap)
    if first < 1:
        raise BadUserInput("first must be at least 1", argument="first")
    return min(first, cap)


def connection(
    shaped: Sequence[dict[str, Any]],
    raw: Sequence[Mapping[str, Any]],
    *,
    limit: int,
    after: int | None,
    count: Any,
) -> dict[str, Any]:
    """Build the connection dict from ``limit + 1`` fetched rows (the extra one tells more)."""
    has_next = len(raw) > limit
    edges = [
        {"cursor": encode_cursor(row["_id"]), "node": node}
        for row, node in zip(raw[:limit], shaped[:limit], strict=True)
    ]
    return {
        "edges": edges,
        "page_info": {
            "has_next_page": has_next,
            "has_previous_page": after is not None,
            "start_cursor": edges[0]["cursor"] if edges else None,
            "end_cursor": edges[-1]["cursor"] if edges else None,
        },
        "_count": count,
    }
