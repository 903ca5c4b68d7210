"""Write the demo data set into the database: once, in one transaction, in bulk."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel
from tqdm import tqdm  # type: ignore[import-untyped, unused-ignore]

import fieldgate.models  # noqa: F401  (registers every table on the metadata)
from fieldgate.crypto.keyring import Keyring
from fieldgate.demo.dataset import TABLES, DemoSizes, generate_demo
from fieldgate.demo.rows import Row
from fieldgate.demo.sensitive import seal_sensitive
from fieldgate.identity.passwords import hash_password
from fieldgate.infra.db import transaction

# Every demo account (staff and users) signs in with this password.
DEMO_PASSWORD = "fieldgate-demo"
# The demo data is there when this user is.
MARKER_USERNAME = "alice"
CHUNK_SIZE = 1000


@dataclass(frozen=True)
class SeedReport:
    """What :func:`seed_demo` did: rows inserted per table, and how long it took."""

    already_seeded: bool
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        """One human line, e.g. ``seeded 1000 users, 200 courses, ... in 8.2 s``."""
        if self.already_seeded:
            return f"demo data already present, nothing inserted ({self.seconds:.1f} s)"
        tables = ", ".join(
            f"{count} {table.replace('_', ' ')}" for table, count in self.counts.items()
        )
        return f"seeded {tables} in {self.seconds:.1f} s"


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


async def _already_seeded(connection: AsyncConnection) -> bool:
    users = _table("users")
    found = await connection.execute(
        select(users.c.id).where(users.c.username == MARKER_USERNAME).limit(1)
    )
    return found.first() is not None


async def _last_ids(connection: AsyncConnection) -> dict[str, int]:
    """The highest primary key of each demo table (0 when empty)."""
    last: dict[str, int] = {}
    for name in TABLES:
        table = _table(name)
        last[name] = (await connection.scalar(select(func.max(table.c.id)))) or 0
    return last


async def _insert(
    connection: AsyncConnection, name: str, rows: list[Row], keyring: Keyring
) -> None:
    table = _table(name)
    sealed = seal_sensitive(name, rows, keyring)
    for start in range(0, len(sealed), CHUNK_SIZE):
        await connection.execute(insert(table), sealed[start : start + CHUNK_SIZE])


async def _advance_sequences(connection: AsyncConnection, names: Mapping[str, int]) -> None:
    """On PostgreSQL, move each id sequence past the ids the demo data set itself."""
    if connection.dialect.name != "postgresql":
        return  # SQLite continues after the largest rowid on its own
    for name in names:
        table = _table(name)
        next_id = select(func.coalesce(func.max(table.c.id), 0) + 1).scalar_subquery()
        sequence = func.pg_get_serial_sequence(name, "id")
        await connection.execute(select(func.setval(sequence, next_id, False)))


async def seed_demo(
    engine: AsyncEngine,
    *,
    keyring: Keyring,
    users: int = 1000,
    courses: int = 200,
    orders: int = 5000,
    tickets: int = 1000,
    seed: int = 42,
    progress: bool = True,
) -> SeedReport:
    """Fill an empty schema with the deterministic demo data set (development only).

    Same seed and sizes on a fresh database, same rows (ids included; sealed values differ
    in their random nonces, not in what they open to). Does nothing and
    reports ``already_seeded`` when the user ``alice`` exists. All or nothing: one
    transaction. The sensitive columns are sealed with ``keyring`` (the deployment's data
    keyring, :func:`~fieldgate.crypto.keyring.load_keyring`). Raises
    :class:`~fieldgate.errors.BadUserInput` for sizes under 10.
    """
    sizes = DemoSizes(users=users, courses=courses, orders=orders, tickets=tickets)
    sizes.check()
    started = time.perf_counter()
    counts: dict[str, int] = {}
    async with transaction(engine) as connection:
        if await _already_seeded(connection):
            return SeedReport(True, {}, time.perf_counter() - started)
        last_ids = await _last_ids(connection)
        # Argon2 is slow on purpose: hash once, off the event loop, and share the hash.
        password_hash = await asyncio.to_thread(hash_password, DEMO_PASSWORD)
        with tqdm(
            total=len(TABLES), desc="demo data", unit="table", file=sys.stderr, disable=not progress
        ) as bar:
            for name, rows in generate_demo(sizes, seed, password_hash, last_ids):
                bar.set_postfix_str(name)
                await _insert(connection, name, rows, keyring)
                counts[name] = len(rows)
                bar.update()
        await _advance_sequences(connection, counts)
    async with transaction(engine) as connection:
        # fresh statistics: the planner's estimates for the scope indexes come from them
        await connection.execute(text("ANALYZE"))
    return SeedReport(False, counts, time.perf_counter() - started)
