"""The policy kept in the database: rules in ``policy_rules``, a revision row per change.

Only the rules move to the database; ``model.conf`` and ``purposes.toml`` stay in the policy
folder. Every write replaces the whole rule set and adds a revision in one transaction, under a
lock, so instances that watch the newest revision id never read half a change.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from fieldgate.infra.db import locked_transaction
from fieldgate.models.tables import policy_revisions as _revisions
from fieldgate.models.tables import policy_rules as _rules

SEEDED_NOTE = "seeded from files"
_VALUES = 6  # v0..v5 after the line type
_WRITE_LOCK = 0x706F6C6963790001  # PostgreSQL advisory lock of policy writes ("policy", 1)


def rule_values(line: str) -> tuple[str, ...]:
    """The values of one ``policy.csv`` line, the line type first."""
    return tuple(value.strip() for value in line.strip().split(","))


def rule_line(values: Sequence[str]) -> str:
    """A line of ``policy.csv`` from its values (trailing empty values dropped)."""
    kept = list(values)
    while kept and kept[-1] == "":
        kept.pop()
    return ", ".join(kept)


class StaleRevision(Exception):
    """A change was written since the rules it edits were read: read them again."""


def _write_transaction(engine: AsyncEngine) -> AbstractAsyncContextManager[AsyncConnection]:
    """Locked before reading: two instances must not both seed."""
    return locked_transaction(engine, _WRITE_LOCK)


class DatabasePolicyStore:
    """Reads and replaces the rules of ``policy_rules``; every write is a revision."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def read_rules(self) -> list[str]:
        """Every rule, in the order written."""
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                select(
                    _rules.c.ptype,
                    _rules.c.v0,
                    _rules.c.v1,
                    _rules.c.v2,
                    _rules.c.v3,
                    _rules.c.v4,
                    _rules.c.v5,
                ).order_by(_rules.c.id)
            )
            return [rule_line(tuple(row)) for row in rows]

    async def newest_revision(self) -> int:
        """The id of the newest revision, 0 when there is none."""
        return (await self.newest())[0]

    async def newest(self) -> tuple[int, str]:
        """The id and policy version of the newest revision, ``(0, "")`` when there is none."""
        async with self.engine.connect() as connection:
            return await self._newest(connection)

    async def read_revision(self) -> tuple[list[str], int]:
        """Every rule and the revision they are at (or a later one), for a compare-and-set."""
        revision = await self.newest_revision()  # first: rules newer than it only cause a retry
        return await self.read_rules(), revision

    async def replace(
        self,
        lines: Sequence[str],
        *,
        version: str,
        changed_by: str,
        note: str,
        expected_revision: int | None = None,
    ) -> int:
        """Replace every rule with ``lines`` and add a revision; returns the revision id.

        With ``expected_revision``, only while it is still the newest (compare-and-set under
        the write lock, on every instance): otherwise :class:`StaleRevision`, nothing written.
        """
        async with _write_transaction(self.engine) as connection:
            if (
                expected_revision is not None
                and expected_revision != (await self._newest(connection))[0]
            ):
                raise StaleRevision
            await self._replace(connection, lines)
            return await self._revision(connection, version, changed_by, note)

    async def record_revision(self, *, version: str, changed_by: str, note: str) -> int:
        """A revision without a rule change (the policy folder changed): instances reload."""
        async with _write_transaction(self.engine) as connection:
            return await self._revision(connection, version, changed_by, note)

    async def seed(self, lines: Sequence[str], *, version: str) -> bool:
        """Write ``lines`` when the table is empty (one revision, :data:`SEEDED_NOTE`)."""
        async with _write_transaction(self.engine) as connection:
            count = (await connection.execute(select(func.count()).select_from(_rules))).scalar()
            if count:
                return False
            await self._replace(connection, lines)
            await self._revision(connection, version, "system", SEEDED_NOTE)
            return True

    @staticmethod
    async def _newest(connection: AsyncConnection) -> tuple[int, str]:
        found = await connection.execute(
            select(_revisions.c.id, _revisions.c.version).order_by(_revisions.c.id.desc()).limit(1)
        )
        row = found.first()
        return (0, "") if row is None else (int(row[0]), str(row[1]))

    @staticmethod
    async def _replace(connection: AsyncConnection, lines: Sequence[str]) -> None:
        await connection.execute(delete(_rules))
        rows = []
        for line in lines:
            ptype, *values = rule_values(line)
            padded = [*values, *([""] * (_VALUES - len(values)))]
            rows.append({"ptype": ptype, **{f"v{i}": padded[i] for i in range(_VALUES)}})
        if rows:
            await connection.execute(insert(_rules), rows)

    @staticmethod
    async def _revision(
        connection: AsyncConnection, version: str, changed_by: str, note: str
    ) -> int:
        result = await connection.execute(
            insert(_revisions)
            .values(
                version=version,
                changed_at=datetime.now(UTC),
                changed_by=changed_by[:64],
                note=note[:255],
            )
            .returning(_revisions.c.id)
        )
        return int(result.scalar_one())
