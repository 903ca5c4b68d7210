"""The stored audit trail on SQLite and PostgreSQL: appending under the chain lock, and
``fieldgate audit verify`` naming the first edited, deleted, inserted or reordered event."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from fieldgate.audit.chain import GENESIS, AuditKey, link_of, load_audit_key
from fieldgate.audit.events import (
    Actor,
    AuditEvent,
    AuditKind,
    ConsentChange,
    RightsRequest,
    consent_change_event,
    rights_request_event,
)
from fieldgate.audit.store import DatabaseAuditSink
from fieldgate.audit.verify import verify_trail
from fieldgate.cli import app
from fieldgate.infra.db import create_engine
from fieldgate.infra.migrate import upgrade
from fieldgate.models.tables import audit_events, audit_subjects
from fieldgate.settings import Settings
from tests.conftest import DatabaseFactory

START = datetime(2024, 5, 1, tzinfo=UTC)


@dataclass
class Trail:
    url: str
    engine: AsyncEngine
    key: AuditKey
    sink: DatabaseAuditSink


@pytest.fixture
async def trail(
    backend: str, database_factory: DatabaseFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Trail]:
    """A private, migrated, empty database and a key file; the command line points at both."""
    url = await database_factory(backend)
    await asyncio.to_thread(upgrade, url)
    key_dir = tmp_path / "keys"
    monkeypatch.setenv("FIELDGATE_DATABASE_URL", url)
    monkeypatch.setenv("FIELDGATE_KEY_DIR", str(key_dir))
    for name in ("ENV", "AUDIT_KEY_FILE"):
        monkeypatch.delenv(f"FIELDGATE_{name}", raising=False)
    key = load_audit_key(Settings(key_dir=key_dir))
    engine = create_engine(url)
    yield Trail(url, engine, key, DatabaseAuditSink(engine, key))
    await engine.dispose()


def denial(n: int) -> AuditEvent:
    return AuditEvent(
        at=START + timedelta(seconds=n),
        kind=AuditKind.DENIAL,
        principal_kind="staff",
        principal_id=3,
        principal_roles=("support_agent",),
        outcome="DENIED",
        reason="NO_GRANT",
        purpose="CUSTOMER_SUPPORT",
        coordinate="User.idNumber",
        subjects=(n, n + 1000),
        request_id=f"r{n}",
    )


async def fill(trail: Trail, count: int, per_batch: int = 10) -> None:
    for first in range(1, count + 1, per_batch):
        await trail.sink.append(
            [denial(n) for n in range(first, min(first + per_batch, count + 1))]
        )


async def verify(trail: Trail) -> Result:
    def run() -> Result:
        return CliRunner().invoke(app, ["audit", "verify", "--batch", "7"])

    return await asyncio.to_thread(run)  # the command runs its own event loop


async def execute(trail: Trail, statement: Any) -> None:
    async with trail.engine.begin() as connection:
        await connection.execute(statement)


async def stored(trail: Trail, seq: int) -> dict[str, Any]:
    async with trail.engine.connect() as connection:
        row = (
            await connection.execute(select(audit_events).where(audit_events.c.seq == seq))
        ).mappings()
        return dict(row.one())


async def test_builders_store_their_fields_and_subjects(trail: Trail) -> None:
    user = Actor.account("user", 42, ["user"])
    await trail.sink.append(
        [
            consent_change_event(user, 42, "MARKETING", ConsentChange.WITHDRAWN, request_id="c1"),
            rights_request_event(user, 42, RightsRequest.EXPORT, request_id="c2"),
        ]
    )
    consent, rights = await stored(trail, 1), await stored(trail, 2)
    assert consent["kind"] == "consent_change" and consent["outcome"] == "WITHDRAWN"
    assert consent["subjects"] == "42" and consent["subject_count"] == 1
    assert consent["principal_kind"] == "user" and consent["principal_id"] == 42
    assert consent["detail"] == '{"consent":"MARKETING","guardian":false}'
    assert consent["prev_link"] == GENESIS and rights["prev_link"] == consent["link"]
    assert rights["kind"] == "rights_request" and rights["detail"].startswith('{"fields":[]')
    async with trail.engine.connect() as connection:
        subjects = (await connection.execute(select(audit_subjects))).all()
    # both events name user 42: they share the rows the first one holds
    assert sorted(tuple(s) for s in subjects) == [(1, 42)]
    assert (consent["subjects_seq"], rights["subjects_seq"]) == (1, 1)
    assert (await verify_trail(trail.engine, trail.key)).count == 2


async def test_concurrent_writers_share_one_contiguous_chain(trail: Trail) -> None:
    engines = [create_engine(trail.url) for _ in range(3)]
    try:
        sinks = [DatabaseAuditSink(engine, trail.key) for engine in engines]
        await asyncio.gather(
            *(sink.append([denial(n), denial(n + 1)]) for n in range(0, 24, 2) for sink in sinks)
        )
    finally:
        for engine in engines:
            await engine.dispose()
    result = await verify_trail(trail.engine, trail.key)
    assert result.ok and result.count == 72


async def test_an_untouched_trail_verifies(trail: Trail) -> None:
    assert (
        await verify(trail)
    ).stdout.strip() == "audit trail verified: 0 events, head 0000000000000000"
    await fill(trail, 30)
    result = await verify(trail)
    last = await stored(trail, 30)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"audit trail verified: 30 events, head {last['link'][:16]}"


async def test_an_edited_event_is_named(trail: Trail) -> None:
    await fill(trail, 30)
    await execute(
        trail, update(audit_events).where(audit_events.c.seq == 17).values(coordinate="User.email")
    )
    result = await verify(trail)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "audit trail broken at event seq=17: its link does not match its content:"
        " the event was edited, or inserted"
    )


async def test_an_edited_event_with_a_recomputed_link_but_no_key_is_named(trail: Trail) -> None:
    await fill(trail, 12)
    forged = await stored(trail, 5)
    wrong_key = AuditKey.generate()
    forged["principal_roles"] = "dpo"
    await execute(
        trail,
        update(audit_events)
        .where(audit_events.c.seq == 5)
        .values(
            principal_roles="dpo", link=link_of(AuditKey(wrong_key.secret, trail.key.id), forged)
        ),
    )
    result = await verify(trail)
    assert result.exit_code == 1
    assert result.stderr.startswith("audit trail broken at event seq=5: its link does not match")


async def test_a_deleted_event_is_named(trail: Trail) -> None:
    await fill(trail, 30)
    await execute(trail, text("DELETE FROM audit_subjects WHERE seq = 12"))
    await execute(trail, text("DELETE FROM audit_events WHERE seq = 12"))
    result = await verify(trail)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "audit trail broken at event seq=13: seq jumps from 11 to 13: events were deleted"
    )


async def test_deleting_the_first_events_is_named(trail: Trail) -> None:
    await fill(trail, 5)
    await execute(trail, text("DELETE FROM audit_subjects WHERE seq <= 2"))
    await execute(trail, text("DELETE FROM audit_events WHERE seq <= 2"))
    result = await verify(trail)
    assert result.exit_code == 1
    assert "broken at event seq=3: the trail starts at seq=3" in result.stderr


async def test_a_deleted_and_renumbered_event_is_named(trail: Trail) -> None:
    await fill(trail, 10, per_batch=10)
    await execute(trail, text("DELETE FROM audit_subjects WHERE seq >= 6"))
    await execute(trail, text("DELETE FROM audit_events WHERE seq = 6"))
    for seq in range(7, 11):  # close the gap, as a careful intruder would
        await execute(
            trail, update(audit_events).where(audit_events.c.seq == seq).values(seq=seq - 1)
        )
    result = await verify(trail)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "audit trail broken at event seq=6: prev_link is not the link of event seq=5:"
        " an event was deleted, inserted or reordered"
    )


async def test_an_inserted_event_is_named(trail: Trail) -> None:
    await fill(trail, 20)
    last = await stored(trail, 20)
    forged = {**last, "seq": 21, "prev_link": last["link"], "link": "0f" * 32, "request_id": "x"}
    await execute(trail, audit_events.insert().values(**forged))
    result = await verify(trail)
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "audit trail broken at event seq=21: its link does not match its content"
    )


async def test_a_duplicated_event_is_named(trail: Trail) -> None:
    await fill(trail, 20)
    copy = {**(await stored(trail, 4)), "seq": 21}
    await execute(trail, audit_events.insert().values(**copy))
    result = await verify(trail)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "audit trail broken at event seq=21: prev_link is not the link of event seq=20:"
        " an event was deleted, inserted or reordered"
    )


async def test_reordered_events_are_named(trail: Trail) -> None:
    await fill(trail, 20)
    first, second = await stored(trail, 9), await stored(trail, 10)
    content = [c for c in first if c != "seq"]
    await execute(
        trail,
        update(audit_events).where(audit_events.c.seq == 9).values({c: second[c] for c in content}),
    )
    await execute(
        trail,
        update(audit_events).where(audit_events.c.seq == 10).values({c: first[c] for c in content}),
    )
    result = await verify(trail)
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "audit trail broken at event seq=9: events were reordered: it follows the later event seq=10"
    )


async def test_an_edited_access_log_entry_is_named(trail: Trail) -> None:
    await fill(trail, 10)
    await execute(trail, text("DELETE FROM audit_subjects WHERE seq = 3 AND user_id = 1003"))
    result = await verify(trail)
    assert result.exit_code == 1
    assert (
        "broken at event seq=3: its audit_subjects rows differ from its subjects" in result.stderr
    )


async def test_a_page_of_denials_shares_its_subject_rows_and_still_verifies(trail: Trail) -> None:
    page = tuple(range(1, 101))
    fields = ("Order.bankCard", "Order.buyerIdNumber", "Order.invoiceTitle")
    await trail.sink.append(
        [replace(denial(1), coordinate=field, subjects=page, request_id="page") for field in fields]
    )
    async with trail.engine.connect() as connection:
        rows = (await connection.execute(select(audit_subjects))).all()
    assert sorted(rows) == [(1, user) for user in page]  # 100 rows, not 300
    assert (await verify_trail(trail.engine, trail.key)).count == 3
    # rows slipped under an event that shares another's are an edit too
    await execute(trail, text("INSERT INTO audit_subjects (seq, user_id) VALUES (2, 7)"))
    result = await verify(trail)
    assert result.exit_code == 1
    assert "broken at event seq=2: its audit_subjects rows differ" in result.stderr
    # and so is a shared row removed: every event holding the set is named by the first
    await execute(trail, text("DELETE FROM audit_subjects WHERE seq = 2"))
    await execute(trail, text("DELETE FROM audit_subjects WHERE seq = 1 AND user_id = 50"))
    result = await verify(trail)
    assert "broken at event seq=1: its audit_subjects rows differ" in result.stderr


async def test_verify_without_the_key_file_says_so(
    trail: Trail, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDGATE_KEY_DIR", str(tmp_path / "elsewhere"))
    result = await verify(trail)
    assert result.exit_code == 1
    assert "audit key file" in result.stderr and "does not exist" in result.stderr
    assert not (tmp_path / "elsewhere" / "audit.key").exists()  # verify never makes a key


async def test_a_trail_checked_with_another_key_is_named(trail: Trail) -> None:
    await fill(trail, 3)
    result = await verify_trail(trail.engine, AuditKey.generate())
    assert result.broken_at == 1 and result.problem is not None
    assert "not the configured key" in result.problem


async def test_verify_streams_fifty_thousand_events_in_batches(trail: Trail) -> None:
    total, batch = 50_000, 1000
    for first in range(1, total + 1, 5000):
        await trail.sink.append([denial(n) for n in range(first, first + 5000)])
    reads: list[Any] = []

    def count(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if re.search(r"FROM audit_events\s+WHERE audit_events\.seq >", statement):
            reads.append(parameters)

    event.listen(trail.engine.sync_engine, "before_cursor_execute", count)
    try:
        result = await verify_trail(trail.engine, trail.key, batch_size=batch)
    finally:
        event.remove(trail.engine.sync_engine, "before_cursor_execute", count)
    assert result.ok and result.count == total
    # one bounded query per batch (and the empty one that ends the walk): never the whole
    # table at once, so memory holds one batch whatever the length of the trail
    assert len(reads) == math.ceil(total / batch) + 1
    limits = {value for parameters in reads for value in _values(parameters) if value == batch}
    assert limits == {batch}


def _values(parameters: Any) -> list[Any]:
    if isinstance(parameters, dict):
        return list(parameters.values())
    return list(parameters)
