"""The request id: one correlation key for the request line, the logs and the audit trail."""

from __future__ import annotations

import re
import uuid

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id_of(header: str | None) -> str:
    """The caller's ``X-Request-Id`` when it is at most 64 of ``[A-Za-z0-9._-]``, else a new
    random one (an id is a correlation key, not free text)."""
    if header is not None and _REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex
