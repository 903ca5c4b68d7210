"""Rows as the bulk inserts take them, and the ids the demo data assigns itself."""

from __future__ import annotations

from typing import Any

# Column name -> value, for ``insert(table)`` executemany.
Row = dict[str, Any]


class IdSequence:
    """Hands out primary keys after ``last``, so that rows can refer to each other before insert.

    On a fresh database ``last`` is 0 and the ids are 1, 2, 3, ...: the same for a seed.
    """

    def __init__(self, last: int = 0) -> None:
        self.last = last

    def next(self) -> int:
        self.last += 1
        return self.last
