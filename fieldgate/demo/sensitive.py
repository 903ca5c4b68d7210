"""The one place where the demo data writes sensitive columns.

Every row goes through :func:`seal_sensitive` on its way to the database: the encrypted
columns are sealed with the data keyring, and each user's ID number gets its blind index.
"""

from __future__ import annotations

from collections.abc import Mapping

from fieldgate.crypto.encrypted import ENCRYPTED_COLUMNS
from fieldgate.crypto.keyring import Keyring
from fieldgate.demo.rows import Row

# Table -> columns that hold sensitive personal information, stored encrypted.
SENSITIVE_COLUMNS: Mapping[str, tuple[str, ...]] = ENCRYPTED_COLUMNS


def seal_value(table: str, column: str, value: str | bytes, keyring: Keyring) -> str | bytes:
    """The stored form of one sensitive value: sealed with the keyring's active key."""
    if isinstance(value, bytes):
        return keyring.encrypt_bytes(value)
    return keyring.encrypt(value)


def seal_sensitive(table: str, rows: list[Row], keyring: Keyring) -> list[Row]:
    """Rows of ``table`` with each sensitive, non-null column replaced by its stored form.

    A user's ID number also sets ``id_number_index`` (its blind index, for exact lookups).
    Tables without sensitive columns are returned as they are.
    """
    columns = SENSITIVE_COLUMNS.get(table, ())
    if not columns:
        return rows
    sealed: list[Row] = []
    for row in rows:
        copy = dict(row)
        if table == "users":
            id_number = copy.get("id_number")
            copy["id_number_index"] = (
                keyring.blind_index(id_number) if isinstance(id_number, str) else None
            )
        for column in columns:
            if copy.get(column) is not None:
                copy[column] = seal_value(table, column, copy[column], keyring)
        sealed.append(copy)
    return sealed
