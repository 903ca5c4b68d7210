"""Key rotation over the stored values: which key each value uses, re-encryption, retiring.

Re-encryption walks every encrypted column in id order, one batch per transaction, and is
safe while gateways serve: a value is rewritten only if it still holds what was read
(compare-and-set in the UPDATE's WHERE), so a concurrent change is never overwritten.
Values still in plaintext (written before encryption at rest) are sealed on the way.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import SQLModel

import fieldgate.models  # noqa: F401  (registers every table on the metadata)
from fieldgate.crypto.encrypted import BINARY_COLUMNS, ENCRYPTED_COLUMNS
from fieldgate.crypto.keyring import Keyring
from fieldgate.errors import BadUserInput, Conflict, DecryptionFailed

PLAINTEXT = "(plaintext)"
UNREADABLE = "(unreadable)"
BATCH_SIZE = 500
MAX_PASSES = 3

Progress = Callable[[str, int, int], None]
"""``progress(column, checked, rewritten)`` after each batch; ``column`` is ``table.column``."""


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _columns() -> list[tuple[str, str]]:
    return [(table, column) for table, columns in ENCRYPTED_COLUMNS.items() for column in columns]


async def _batches(
    engine: AsyncEngine, table_name: str, column: str, batch_size: int
) -> AsyncIterator[Sequence[Any]]:
    """(id, value) rows with a value, in id order, one short read per batch."""
    table = _table(table_name)
    last = 0
    while True:
        statement = (
            select(table.c.id, table.c[column])
            .where(table.c[column].is_not(None), table.c.id > last)
            .order_by(table.c.id)
            .limit(batch_size)
        )
        async with engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _key_of(value: Any) -> str:
    if not Keyring.is_encrypted(value):
        return PLAINTEXT
    try:
        return Keyring.key_id_of(value)
    except DecryptionFailed:
        return UNREADABLE


async def key_usage(engine: AsyncEngine, *, batch_size: int = 2000) -> Counter[str]:
    """How many stored values each key id seals (``(plaintext)``: not sealed at all)."""
    usage: Counter[str] = Counter()
    for table_name, column in _columns():
        async for rows in _batches(engine, table_name, column, batch_size):
            usage.update(_key_of(value) for _, value in rows)
    return usage


@dataclass
class RotationReport:
    """What :func:`reencrypt` did."""

    key_id: str
    checked: int = 0
    rewritten: int = 0
    conflicts: int = 0  # changed by someone else between read and write; checked again
    unreadable: int = 0  # could not be opened with the keys held: left as they are
    seconds: float = 0.0
    by_column: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One human line."""
        line = (
            f"{self.rewritten} of {self.checked} values re-encrypted under key {self.key_id}"
            f" in {self.seconds:.1f} s"
        )
        if self.conflicts:
            line += f"; {self.conflicts} changed meanwhile and were checked again"
        if self.unreadable:
            line += f"; {self.unreadable} could not be opened and were left as they are"
        return line


async def reencrypt(
    engine: AsyncEngine,
    keyring: Keyring,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Progress | None = None,
) -> RotationReport:
    """Seal every stored value not under the keyring's active key with it.

    Each batch is its own transaction; each UPDATE names the value it read. Rows changed
    concurrently are left to their writer and looked at again in another pass (at most
    ``MAX_PASSES``). ``users.id_number_index`` is (re)computed with each ID number.
    """
    started = time.perf_counter()
    report = RotationReport(keyring.active_key_id)
    for table_name, column in _columns():
        label = f"{table_name}.{column}"
        rewritten_here = 0
        for attempt in range(MAX_PASSES):
            checked = conflicts = unreadable = 0
            async for rows in _batches(engine, table_name, column, batch_size):
                done, lost, closed = await _reencrypt_batch(
                    engine, keyring, table_name, column, rows
                )
                checked += len(rows)
                rewritten_here += done
                conflicts += lost
                unreadable += closed
                if progress is not None:
                    progress(label, checked, rewritten_here)
            if attempt == 0:  # later passes look at the same values again
                report.checked += checked
                report.unreadable += unreadable
            report.conflicts += conflicts
            if not conflicts:
                break
        report.by_column[label] = rewritten_here
        report.rewritten += rewritten_here
    report.seconds = time.perf_counter() - started
    return report


async def _reencrypt_batch(
    engine: AsyncEngine, keyring: Keyring, table_name: str, column: str, rows: Sequence[Any]
) -> tuple[int, int, int]:
    """(rewritten, lost to concurrent writers, unreadable) for one batch."""
    table = _table(table_name)
    binary = (table_name, column) in BINARY_COLUMNS
    with_index = (table_name, column) == ("users", "id_number")
    active = keyring.active_key_id
    updates: list[tuple[int, Any, dict[str, Any]]] = []
    unreadable = 0
    for row_id, stored in rows:
        current = _key_of(stored)
        if current == active:
            continue
        try:
            if binary:
                data = keyring.decrypt_bytes(stored) if current != PLAINTEXT else bytes(stored)
                values: dict[str, Any] = {column: keyring.encrypt_bytes(data)}
            else:
                text = keyring.decrypt(stored) if current != PLAINTEXT else stored
                values = {column: keyring.encrypt(text)}
                if with_index:
                    values["id_number_index"] = keyring.blind_index(text)
        except DecryptionFailed:
            unreadable += 1
            continue
        updates.append((row_id, stored, values))
    rewritten = lost = 0
    if updates:
        async with engine.begin() as connection:
            for row_id, stored, values in updates:
                result = await connection.execute(
                    update(table)
                    .where(table.c.id == row_id, table.c[column] == stored)
                    .values(**values)
                )
                if result.rowcount == 1:
                    rewritten += 1
                else:
                    lost += 1
    return rewritten, lost, unreadable


async def retire_key(engine: AsyncEngine, keyring: Keyring, kid: str) -> None:
    """Retire ``kid`` for good, unless a stored value still uses it.

    Raises ``BadUserInput`` for the active key or a key the keyring does not hold, and
    ``Conflict`` while any stored value is sealed with it (run a rotation first).
    """
    if kid == keyring.active_key_id:
        raise BadUserInput(f"key {kid} is the active key: rotate to a new key first")
    if kid not in keyring.key_ids:
        raise BadUserInput(f"no key {kid} to retire")
    in_use = (await key_usage(engine))[kid]
    if in_use:
        raise Conflict(
            f"key {kid} still seals {in_use} stored values: run `fieldgate keys rotate` first"
        )
    try:
        keyring.retire(kid)
    except ValueError as exc:  # the key file changed meanwhile
        raise BadUserInput(f"key {kid} cannot be retired: {exc}") from None
