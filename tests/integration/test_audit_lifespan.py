"""The trail across the application's life: a changed policy is recorded at start, and a
clean shutdown stores every event that was accepted."""

from __future__ import annotations

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from fieldgate.app import create_app
from fieldgate.audit.chain import load_audit_key
from fieldgate.audit.events import AuditEvent, AuditKind
from fieldgate.audit.verify import verify_trail
from fieldgate.infra.db import create_engine
from fieldgate.infra.migrate import upgrade
from fieldgate.models.tables import audit_events
from fieldgate.settings import PACKAGED_POLICY_DIR, Settings
from tests.conftest import DatabaseFactory


async def fresh(backend: str, database_factory: DatabaseFactory) -> str:
    url = await database_factory(backend)
    await asyncio.to_thread(upgrade, url)
    return url


async def run_app(settings: Settings, during: Any = None) -> None:
    """Start the app (its lifespan), optionally do something, and shut it down cleanly."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        if during is not None:
            await during(app.state.services)


async def rows(url: str, *where: Any) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            statement = select(audit_events).where(*where).order_by(audit_events.c.seq)
            return [dict(r) for r in (await connection.execute(statement)).mappings()]
    finally:
        await engine.dispose()


async def test_a_changed_policy_is_recorded_once_at_start(
    backend: str, database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = await fresh(backend, database_factory)
    settings = Settings(database_url=url, key_dir=tmp_path / "keys")
    await run_app(settings)
    await run_app(settings)  # the same policy again: nothing new
    changed = tmp_path / "policy"
    shutil.copytree(PACKAGED_POLICY_DIR, changed)
    with (changed / "policy.csv").open("a", encoding="utf-8") as handle:
        handle.write("# reviewed\n")
    await run_app(Settings(database_url=url, key_dir=tmp_path / "keys", policy_dir=changed))

    events = await rows(url, audit_events.c.kind == "policy_change")
    first, second = (e["policy_version"] for e in events)
    assert first != second and len(events) == 2
    assert events[0]["detail"] == f'{{"new":"{first}","old":null}}'
    assert events[1]["detail"] == f'{{"new":"{second}","old":"{first}"}}'
    assert events[0]["principal_kind"] == "system" and events[0]["outcome"] == "CHANGED"
    engine = create_engine(url)
    try:
        verified = await verify_trail(engine, load_audit_key(settings, create=False))
    finally:
        await engine.dispose()
    assert verified.ok and verified.count == 2


async def test_shutdown_stores_the_events_submitted_just_before(
    backend: str, database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    url = await fresh(backend, database_factory)
    marker = f"shutdown-{backend}"

    async def submit(services: Any) -> None:
        now = datetime.now(UTC)
        events = [
            AuditEvent(
                at=now,
                kind=AuditKind.DENIAL,
                principal_kind="staff",
                outcome="DENIED",
                request_id=marker,
                subjects=(n,),
            )
            for n in range(1, 1201)
        ]
        for start in range(0, len(events), 100):
            assert services.audit.submit(events[start : start + 100])

    await run_app(Settings(database_url=url, key_dir=tmp_path / "keys"), submit)
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            stored = (
                await connection.execute(
                    select(func.count()).where(audit_events.c.request_id == marker)
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert stored == 1200
