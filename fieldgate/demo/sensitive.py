"""The one place where the demo data writes sensitive columns.

Every row goes through :func:`seal_sensitive` on its way to the database; encryption at
rest of these columns is to be applied here, and nowhere else in the demo data.
"""

from __future__ import annotations

from collections.abc import Mapping

from fieldgate.demo.rows import Row

# Table -> columns that hold sensitive personal information (DESIGN.md classification).
SENSITIVE_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "users": ("id_number", "face_template"),
    "orders": ("buyer_id_number", "bank_card"),
    "devices": ("imei", "mac"),
}


def seal_value(table: str, column: str, value: str | bytes) -> str | bytes:
    """The stored form of one sensitive value; for now the value itself (no key yet)."""
    return value


def seal_sensitive(table: str, rows: list[Row]) -> list[Row]:
    """Rows of ``table`` with each sensitive, non-null column replaced by its stored form."""
    columns = SENSITIVE_COLUMNS.get(table, ())
    if not columns:
        return rows
    sealed: list[Row] = []
    for row in rows:
        copy = dict(row)
        for column in columns:
            if copy.get(column) is not None:
                copy[column] = seal_value(table, column, copy[column])
        sealed.append(copy)
    return sealed
