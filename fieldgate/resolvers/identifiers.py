"""Row ids from the outside world, parsed into the integer range of their column.

A GraphQL ``ID`` (or a cursor) is text. A row id is an ASCII decimal number from 1 to the
largest value its column holds (``INTEGER``: 2³¹ − 1, ``BIGINT``: 2⁶³ − 1, on both
databases); anything else names no row. Parsing here, once, keeps every such value from
reaching the database, where PostgreSQL refuses a number past the column's range.
"""

from __future__ import annotations

import re

from sqlalchemy import BigInteger, ColumnElement

INTEGER_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
_DECIMAL = re.compile(r"[0-9]{1,19}")  # ASCII only: ``int()`` takes any script's digits


def largest_id(column: ColumnElement[int]) -> int:
    """The largest value ``column`` can hold."""
    return BIGINT_MAX if isinstance(column.type, BigInteger) else INTEGER_MAX


def row_id(raw: object, largest: int = INTEGER_MAX) -> int | None:
    """``raw`` as a row id within 1..``largest``, or None when it cannot name a row."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and _DECIMAL.fullmatch(raw):
        value = int(raw)
    else:
        return None
    return value if 1 <= value <= largest else None
