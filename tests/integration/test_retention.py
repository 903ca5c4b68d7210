"""The retention pass on SQLite and PostgreSQL, on the demo data: exactly the expired rows
go (the dry run counts the same and removes nothing), the pruned audit trail verifies from
its checkpoint, a second pass changes nothing, two at once run once, a forged or missing
checkpoint is tampering."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from fieldgate.audit.chain import AuditKey, load_audit_key
from fieldgate.audit.events import AuditEvent, AuditKind
from fieldgate.audit.store import DatabaseAuditSink
from fieldgate.audit.verify import verify_trail
from fieldgate.cli import app
from fieldgate.crypto.keyring import load_keyring
from fieldgate.demo.timeline import EPOCH
from fieldgate.infra.db import create_engine
from fieldgate.models.tables import (
    audit_checkpoints,
    audit_events,
    audit_subjects,
    consents,
    devices,
    enrollments,
    issued_tokens,
    login_events,
    maintenance_leases,
    messages,
    orders,
    third_party_logins,
    tickets,
    users,
)
from fieldgate.retention.purge import ORDER_PERSONAL_COLUMNS
from fieldgate.retention.run import run_pass
from fieldgate.retention.schedule import Schedule
from fieldgate.settings import Settings
from tests.conftest import DatabaseFactory
from tests.gateway import seeded_database

NOW = EPOCH
SCHEDULE = Schedule.of(Settings())
CUT = SCHEDULE.cutoffs(NOW)
# the data tables the pass reads (the audit trail is checked on its own)
TABLES: tuple[Table, ...] = (
    login_events,
    devices,
    third_party_logins,
    enrollments,
    consents,
    tickets,
    messages,
    issued_tokens,
    orders,
)
OLD_EVENTS, RECENT_EVENTS = 30, 10


@dataclass
class Demo:
    url: str
    engine: AsyncEngine
    key: AuditKey
    closed_long_ago: int  # an account closed before the accounting year
    closed_recently: int


def utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


async def rows(engine: AsyncEngine) -> dict[str, dict[Any, dict[str, Any]]]:
    """Every row of the data tables by primary key, times in UTC."""
    found: dict[str, dict[Any, dict[str, Any]]] = {}
    async with engine.connect() as connection:
        for table in TABLES:
            key = next(iter(table.primary_key.columns)).name
            result = (await connection.execute(select(table))).mappings()
            found[table.name] = {
                row[key]: {n: utc(v) if isinstance(v, datetime) else v for n, v in row.items()}
                for row in result
            }
    return found


def denial(at: datetime, n: int) -> AuditEvent:
    return AuditEvent(
        at=at,
        kind=AuditKind.DENIAL,
        principal_kind="staff",
        principal_id=3,
        outcome="DENIED",
        reason="NO_GRANT",
        coordinate="User.idNumber",
        subjects=(n % 7 + 1,),
    )


@pytest.fixture
async def demo(
    backend: str, database_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Demo]:
    """A private seeded database with tokens, two closed accounts and an old audit trail;
    the command line points at it."""
    key_dir = tmp_path / "keys"
    url = await seeded_database(database_factory, backend, load_keyring(Settings(key_dir=key_dir)))
    monkeypatch.setenv("FIELDGATE_DATABASE_URL", url)
    monkeypatch.setenv("FIELDGATE_KEY_DIR", str(key_dir))
    for name in ("ENV", "AUDIT_KEY_FILE"):
        monkeypatch.delenv(f"FIELDGATE_{name}", raising=False)
    key = load_audit_key(Settings(key_dir=key_dir))
    engine = create_engine(url)
    async with engine.begin() as connection:
        ids = (await connection.execute(select(users.c.id).order_by(users.c.id))).scalars().all()
        long_ago, recently = ids[3], ids[4]
        for user_id, closed in ((long_ago, NOW - timedelta(days=400)), (recently, NOW)):
            await connection.execute(
                update(users).where(users.c.id == user_id).values(closed_at=closed)
            )
        await connection.execute(
            insert(issued_tokens),
            [
                {
                    "jti": f"t{n}",
                    "subject": subject,
                    "issued_at": expires - timedelta(hours=1),
                    "expires_at": expires,
                }
                for n, (subject, expires) in enumerate(
                    [
                        ("staff:1", NOW - timedelta(days=31)),  # expired a month ago: goes
                        ("staff:1", NOW - timedelta(days=29)),
                        ("partner:1", NOW + timedelta(hours=1)),
                        (f"user:{long_ago}", NOW + timedelta(hours=1)),  # closed account: goes
                        (f"user:{recently}", NOW + timedelta(hours=1)),
                    ]
                )
            ],
        )
    sink = DatabaseAuditSink(engine, key)
    old = datetime(2022, 1, 1, tzinfo=UTC)
    for first in range(0, OLD_EVENTS + RECENT_EVENTS, 10):
        at = old if first < OLD_EVENTS else NOW - timedelta(days=1)
        await sink.append([denial(at + timedelta(seconds=n), n) for n in range(first, first + 10)])
    yield Demo(url, engine, key, long_ago, recently)
    await engine.dispose()


def expected_after(before: dict[str, dict[Any, dict[str, Any]]], closed: int) -> dict[str, Any]:
    """What the schedule keeps of ``before``, worked out row by row."""
    after = {name: dict(table) for name, table in before.items()}

    def keep(name: str, test: Any) -> None:
        after[name] = {k: r for k, r in after[name].items() if test(r)}

    def alive(row: dict[str, Any]) -> bool:
        return row["user_id"] != closed

    keep("login_events", lambda r: alive(r) and r["at"] >= CUT.login_events)
    keep("devices", lambda r: alive(r) and r["last_seen_at"] >= CUT.devices)
    keep("third_party_logins", alive)
    keep("enrollments", alive)
    keep(
        "consents",
        lambda r: (
            alive(r) and (r["withdrawn_at"] is None or r["withdrawn_at"] >= CUT.withdrawn_consents)
        ),
    )
    last: dict[int, datetime] = {}
    for message in before["ticket_messages"].values():
        ticket = message["ticket_id"]
        last[ticket] = max(last.get(ticket, message["created_at"]), message["created_at"])

    def ticket_kept(r: dict[str, Any]) -> bool:
        activity = max(r["created_at"], last.get(r["id"], r["created_at"]))
        return alive(r) and not (r["status"] == "closed" and activity < CUT.closed_tickets)

    keep("support_tickets", ticket_kept)
    keep("ticket_messages", lambda r: r["ticket_id"] in after["support_tickets"])
    keep(
        "issued_tokens",
        lambda r: r["expires_at"] >= CUT.expired_tokens and r["subject"] != f"user:{closed}",
    )
    for number, order in after["orders"].items():
        if order["user_id"] == closed:
            after["orders"][number] = {**order, **dict.fromkeys(ORDER_PERSONAL_COLUMNS)}
    return after


async def test_a_pass_removes_exactly_the_expired_rows_and_the_trail_verifies(demo: Demo) -> None:
    before = await rows(demo.engine)
    expected = expected_after(before, demo.closed_long_ago)
    assert before["orders"] != expected["orders"]  # the closed account has orders to clear
    for name in ("login_events", "devices", "support_tickets", "issued_tokens"):
        assert 0 < len(expected[name]) < len(before[name]), name  # some go, some stay

    dry = await run_pass(demo.engine, demo.key, SCHEDULE, now=NOW)
    assert dry.ran and not dry.applied
    assert await rows(demo.engine) == before  # nothing removed

    applied = await run_pass(demo.engine, demo.key, SCHEDULE, apply=True, now=NOW)
    assert applied.counts == dry.counts
    after = await rows(demo.engine)
    assert after == expected
    counts = applied.counts
    assert counts["expired_tokens"] == 1 and counts["closed_account_tokens"] == 1
    assert counts["audit_events"] == OLD_EVENTS

    verification = await verify_trail(demo.engine, demo.key)
    assert verification.ok, verification.problem
    assert verification.count == RECENT_EVENTS + 2  # the kept events, the dry run, the pass
    async with demo.engine.connect() as connection:
        passes = (
            await connection.execute(
                select(audit_events.c.outcome, audit_events.c.detail)
                .where(audit_events.c.kind == "retention")
                .order_by(audit_events.c.seq)
            )
        ).all()
    assert [outcome for outcome, _ in passes] == ["DRY_RUN", "APPLIED"]
    assert '"audit_events":30' in passes[1].detail  # counts, never values

    again = await run_pass(demo.engine, demo.key, SCHEDULE, apply=True, now=NOW)
    assert again.ran and set(again.counts.values()) == {0}
    assert await rows(demo.engine) == expected
    assert (await verify_trail(demo.engine, demo.key)).ok


async def test_two_passes_at_once_run_once(demo: Demo) -> None:
    second = create_engine(demo.url)
    try:
        outcomes = await asyncio.gather(
            run_pass(demo.engine, demo.key, SCHEDULE, apply=True, now=NOW),
            run_pass(second, demo.key, SCHEDULE, apply=True, now=NOW),
        )
    finally:
        await second.dispose()
    assert sorted(outcome.ran for outcome in outcomes) == [False, True]
    assert (await verify_trail(demo.engine, demo.key)).ok
    # the lease ended with the pass: the next one runs
    assert (await run_pass(demo.engine, demo.key, SCHEDULE, now=NOW)).ran


async def test_a_forged_or_missing_checkpoint_is_tampering(demo: Demo) -> None:
    await run_pass(demo.engine, demo.key, SCHEDULE, apply=True, now=NOW)
    async with demo.engine.connect() as connection:
        checkpoint = (await connection.execute(select(audit_checkpoints))).mappings().one()
    assert checkpoint["seq"] == OLD_EVENTS + 1

    async def tamper(statement: Any) -> str | None:
        async with demo.engine.begin() as connection:
            await connection.execute(statement)
        result = await verify_trail(demo.engine, demo.key)
        return result.problem

    # the checkpoint moved on, hiding the first kept event after deleting it
    await tamper(delete(audit_subjects).where(audit_subjects.c.seq == OLD_EVENTS + 1))
    await tamper(delete(audit_events).where(audit_events.c.seq == OLD_EVENTS + 1))
    problem = await tamper(update(audit_checkpoints).values(seq=OLD_EVENTS + 2))
    assert problem is not None and "forged" in problem
    assert (await tamper(update(audit_checkpoints).values(mac="0" * 64))) is not None
    problem = await tamper(delete(audit_checkpoints))
    assert problem is not None and "deleted" in problem


async def test_the_command_counts_applies_and_yields_to_a_running_pass(demo: Demo) -> None:
    async def cli(*args: str) -> Result:
        return await asyncio.to_thread(CliRunner().invoke, app, list(args))

    dry = await cli("retention", "run")
    assert dry.exit_code == 0, dry.output
    assert "would remove" in dry.output and "dry run" in dry.output
    assert "expired_tokens" in dry.output
    applied = await cli("retention", "run", "--apply")
    assert applied.exit_code == 0, applied.output
    assert "removed" in applied.output and "dry run" not in applied.output
    verified = await cli("audit", "verify")
    assert verified.exit_code == 0, verified.output

    async with demo.engine.begin() as connection:  # another instance holds the lease
        await connection.execute(
            update(maintenance_leases).values(
                holder="elsewhere", expires_at=datetime.now(UTC) + timedelta(minutes=5)
            )
        )
    busy = await cli("retention", "run", "--apply")
    assert busy.exit_code == 0, busy.output
    assert busy.output.strip() == "another instance is running the pass"


@pytest.fixture
def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("PostgreSQL: VACUUM frees the space; the bytes stay until it is reused")


async def test_removed_values_leave_the_sqlite_file(sqlite_only: None, demo: Demo) -> None:
    """secure_delete zeroes the freed pages, the WAL checkpoint empties the log."""
    before = await rows(demo.engine)
    await run_pass(demo.engine, demo.key, SCHEDULE, apply=True, now=NOW)
    after = await rows(demo.engine)
    kept = repr(after).encode()
    gone = {
        row["ip"]
        for key, row in before["login_events"].items()
        if key not in after["login_events"] and row["ip"] and row["ip"].encode() not in kept
    }
    assert gone  # expired login events whose IP no kept row holds
    path = Path(demo.url.removeprefix("sqlite+aiosqlite:///"))
    wal = path.with_name(path.name + "-wal")
    await demo.engine.dispose()  # nothing held open: what is on disk is what stays

    def on_disk() -> bytes:
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")

    stored = await asyncio.to_thread(on_disk)
    assert [ip for ip in gone if ip.encode() in stored] == []
