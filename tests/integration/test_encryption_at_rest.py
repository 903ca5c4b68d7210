"""No plaintext of an encrypted column anywhere in the database's own bytes.

The demo data is seeded into a new database; the plaintexts are what its stored values open
to; then the SQLite files (main file and write-ahead log) or a ``pg_dump --data-only`` of
the PostgreSQL database are searched for them, byte for byte.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import Table, select
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

import fieldgate.models  # noqa: F401  (registers every table on the metadata)
from fieldgate.crypto.encrypted import BINARY_COLUMNS, ENCRYPTED_COLUMNS
from fieldgate.crypto.keyring import Keyring
from fieldgate.infra.db import create_engine
from tests.gateway import seeded_database

DatabaseFactory = Callable[[str], Awaitable[str]]


def table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


async def plaintexts(url: str, keyring: Keyring) -> dict[str, set[bytes]]:
    """``table.column`` -> the plaintexts its stored values open to (as bytes)."""
    engine = create_engine(url)
    found: dict[str, set[bytes]] = {}
    try:
        async with engine.connect() as connection:
            for name, columns in ENCRYPTED_COLUMNS.items():
                for column in columns:
                    t = table(name)
                    values = (
                        await connection.execute(
                            select(t.c[column]).where(t.c[column].is_not(None))
                        )
                    ).scalars()
                    opened: set[bytes] = set()
                    for value in values:
                        assert Keyring.is_encrypted(value), f"{name}.{column} holds a plain value"
                        if (name, column) in BINARY_COLUMNS:
                            template = keyring.decrypt_bytes(value)
                            opened |= {template, template.hex().encode()}  # dumps write hex
                        else:
                            opened.add(keyring.decrypt(value).encode("utf-8"))
                    found[f"{name}.{column}"] = opened
            phones = (await connection.execute(select(table("users").c.phone))).scalars()
            found["users.phone"] = {p.encode() for p in phones if p}
    finally:
        await engine.dispose()
    return found


def assert_no_plaintext(data: bytes, found: dict[str, set[bytes]], where: str) -> None:
    # The search itself works: phone numbers are not encrypted and are found.
    assert any(phone in data for phone in found.pop("users.phone")), f"{where}: no phone found"
    for column in ("users.id_number", "orders.bank_card", "devices.imei", "devices.mac"):
        assert found[column], f"the demo data has no {column}"
    for column, values in found.items():
        leaked = [value for value in values if value in data]
        assert not leaked, f"{where}: {len(leaked)} plaintext values of {column}"


async def test_the_stored_bytes_hold_no_plaintext(
    backend: str, database_factory: DatabaseFactory
) -> None:
    keyring = Keyring.generate()
    url = await seeded_database(database_factory, backend, keyring)
    found = await plaintexts(url, keyring)
    if backend == "sqlite":
        path = Path(make_url(url).database or "")
        files = [p for p in (path, Path(f"{path}-wal")) if p.exists()]
        assert path in files
        data = b"".join(p.read_bytes() for p in files)
        assert_no_plaintext(data, found, " + ".join(p.name for p in files))
    else:
        assert_no_plaintext(await pg_dump(url), found, "pg_dump --data-only")


async def pg_dump(url: str) -> bytes:
    """``pg_dump --data-only`` of the database (skips the test when pg_dump is missing)."""
    binary = shutil.which("pg_dump")
    if binary is None:
        pytest.skip("pg_dump is not installed: the PostgreSQL dump cannot be searched")
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    process = await asyncio.create_subprocess_exec(
        binary,
        "--data-only",
        "--no-owner",
        "--dbname",
        libpq,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    dump, errors = await process.communicate()
    assert process.returncode == 0, errors.decode(errors="replace")
    assert b"COPY public.users" in dump
    return dump
