"""Relay connections over keyset pagination (by row id); cursors are sealed per recipient
(``fieldgate.crypto.cursors``), so that no caller receives a row id through them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fieldgate.errors import BadUserInput

DEFAULT_PAGE = 20


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
    encode_cursor: Callable[[int], str],
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
