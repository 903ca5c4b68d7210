"""One retention pass: every record past its period removed (or, in a dry run, counted),
the audit trail pruned from its start, the pass audited, the freed space scrubbed.

Safe on every instance at once: a pass first claims the ``retention`` lease; an instance
that finds it held does nothing (``Outcome.ran`` is False). The work is one transaction
under the audit chain's lock, so the removals, the checkpoint and the pass's audit event
are stored together or not at all. A dry run does the same work and rolls it back, so its
counts are exactly what ``apply`` would remove at that moment.

Deleted rows do not leave the disk by themselves. On SQLite the pass sets
``secure_delete`` (freed pages are overwritten with zeros) and, after an applied pass,
checkpoints and truncates the WAL, which still holds the old pages. On PostgreSQL a
DELETE only marks row versions dead; ``VACUUM`` makes their space reusable (their bytes
stay in the file until reused; only ``VACUUM FULL`` rewrites it), so an applied pass runs
``VACUUM (ANALYZE)`` on every table it touched, outside any transaction.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from fieldgate.audit.chain import AuditKey
from fieldgate.audit.checkpoint import prune_before
from fieldgate.audit.events import retention_event
from fieldgate.audit.store import DatabaseAuditSink, chain_transaction
from fieldgate.infra.db import locked_transaction
from fieldgate.models.tables import audit_checkpoints, audit_events, audit_subjects
from fieldgate.models.tables import maintenance_leases as leases
from fieldgate.retention.purge import TOUCHED, purge
from fieldgate.retention.schedule import Schedule

LEASE = "retention"
# pg_advisory_xact_lock key under which the lease is claimed: "fgretain"
LEASE_LOCK = 0x6667_7265_7461_696E
# a pass that crashed holds the lease this long; a pass takes seconds to minutes
LEASE_TTL = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a pass did: whether it ran (the lease was free), applied or not, and how many
    rows of each kind it removed or would remove."""

    ran: bool
    applied: bool
    counts: dict[str, int] = field(default_factory=dict)


class _DryRun(Exception):
    """Raised inside the pass's transaction so that a dry run rolls back."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__("dry run")
        self.counts = counts


async def run_pass(
    engine: AsyncEngine,
    key: AuditKey,
    schedule: Schedule,
    *,
    apply: bool = False,
    now: datetime | None = None,
) -> Outcome:
    """Run one pass at ``now`` (default: the current time); see the module's docstring."""
    holder = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
    if not await _claim(engine, holder):
        return Outcome(ran=False, applied=apply)
    cutoffs = schedule.cutoffs(now or datetime.now(UTC))
    sink = DatabaseAuditSink(engine, key)
    try:
        async with chain_transaction(engine) as connection:
            if connection.dialect.name == "sqlite":
                await connection.exec_driver_sql("PRAGMA secure_delete = ON")
            counts = await purge(connection, cutoffs)
            counts["audit_events"] = await prune_before(
                connection, key, cutoffs.audit_events, datetime.now(UTC)
            )
            if not apply:
                raise _DryRun(counts)
            await sink.append_in(connection, [retention_event(counts, applied=True)])
    except _DryRun as dry:
        counts = dry.counts
        await sink.append([retention_event(counts, applied=False)])
    finally:
        async with engine.begin() as connection:
            await _release(connection, holder)
    if apply:
        await _scrub(engine)
    return Outcome(ran=True, applied=apply, counts=counts)


async def _held(connection: AsyncConnection, since: datetime) -> bool:
    """Whether a pass holds the lease, or held it at any moment since ``since``."""
    found = await connection.scalar(
        select(leases.c.holder).where(leases.c.name == LEASE, leases.c.expires_at > since)
    )
    return found is not None


async def _claim(engine: AsyncEngine, holder: str) -> bool:
    """Take the lease unless another pass holds it or ended while this one was claiming
    (a claim that waited for a pass to end must not run a second one).

    A plain read first: on SQLite a running pass holds the write lock, and the claim would
    wait for the pass to end."""
    since = _now()
    async with engine.connect() as connection:
        if await _held(connection, since):
            return False
    async with locked_transaction(engine, LEASE_LOCK) as connection:
        if await _held(connection, since):
            return False
        await connection.execute(delete(leases).where(leases.c.name == LEASE))
        await connection.execute(
            insert(leases).values(name=LEASE, holder=holder, expires_at=_now() + LEASE_TTL)
        )
    return True


async def _release(connection: AsyncConnection, holder: str) -> None:
    """End the lease now; its end stays recorded for claims that overlapped the pass."""
    await connection.execute(
        update(leases)
        .where(leases.c.name == LEASE, leases.c.holder == holder)
        .values(expires_at=_now())
    )


async def _scrub(engine: AsyncEngine) -> None:
    """After an applied pass, make the deleted rows' bytes leave (see the module)."""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        if connection.dialect.name == "postgresql":
            for table in (*TOUCHED, audit_subjects, audit_events, audit_checkpoints):
                await autocommit.exec_driver_sql(f'VACUUM (ANALYZE) "{table.name}"')
        elif connection.dialect.name == "sqlite":
            await autocommit.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _now() -> datetime:
    return datetime.now(UTC)
