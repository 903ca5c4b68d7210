"""``/readyz`` and the recognition of database faults."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import create_async_engine

from fieldgate.infra.faults import DatabaseFault, database_fault
from fieldgate.observability.readiness import readiness
from tests.ops.conftest import MakeApp


async def answers() -> object:
    return True


async def refuses() -> object:
    raise ConnectionRefusedError("redis is down")


async def hangs() -> object:
    await asyncio.sleep(30)
    return True


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_an_unreachable_redis_degrades_but_does_not_unready(make_app: MakeApp) -> None:
    _, client = make_app(redis_url="redis://127.0.0.1:1/0")
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert ready.json()["checks"]["redis"] == "unreachable"
    assert ready.json()["checks"]["database"] == "ok"


async def test_readiness_reports_each_check() -> None:
    engine = create_async_engine("sqlite+aiosqlite:///:memory:")
    try:
        ready = await readiness(engine, "v1", answers)
        assert (ready.status_code, ready.body["status"]) == (200, "ready")
        assert ready.body["checks"] == {"database": "ok", "policy": "v1", "redis": "ok"}
        degraded = await readiness(engine, "v1", refuses)
        assert (degraded.status_code, degraded.body["status"]) == (200, "degraded")
        slow = await asyncio.wait_for(readiness(engine, "v1", hangs), 5)  # a short timeout
        assert slow.body["checks"]["redis"] == "unreachable"
        no_policy = await readiness(engine, None)
        assert no_policy.status_code == 503
        assert "redis" not in no_policy.body["checks"]
    finally:
        await engine.dispose()
    missing = create_async_engine("sqlite+aiosqlite:////nonexistent-dir/x.db")
    try:
        down = await readiness(missing, "v1")
        assert down.status_code == 503
        assert down.body == {
            "status": "unavailable",
            "checks": {"database": "unreachable", "policy": "v1"},
        }
    finally:
        await missing.dispose()


class Adapted(Exception):
    """A driver error carrying an SQLSTATE, as asyncpg's do."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__("driver text with SELECT secret")
        self.sqlstate = sqlstate


def wrapped(orig: Exception, kind: type[exc.DBAPIError] = exc.DBAPIError) -> exc.DBAPIError:
    return kind("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    ("error", "fault"),
    [
        (wrapped(Adapted("57014")), DatabaseFault.TIMEOUT),  # statement timeout
        (wrapped(Adapted("08006")), DatabaseFault.UNREACHABLE),  # connection failure
        (wrapped(Adapted("57P01")), DatabaseFault.UNREACHABLE),  # admin shutdown
        (wrapped(Exception("gone"), exc.OperationalError), DatabaseFault.UNREACHABLE),
        (wrapped(Exception("database is locked"), exc.OperationalError), DatabaseFault.TIMEOUT),
        (wrapped(Exception("closed"), exc.InterfaceError), DatabaseFault.UNREACHABLE),
        (exc.TimeoutError("QueuePool limit"), DatabaseFault.TIMEOUT),
        (TimeoutError(), DatabaseFault.TIMEOUT),
        (ConnectionResetError(), DatabaseFault.UNREACHABLE),
        (wrapped(Adapted("23505"), exc.IntegrityError), None),  # a constraint: not a fault
        (ValueError("bad"), None),
    ],
)
def test_database_faults_are_recognised(error: Exception, fault: DatabaseFault | None) -> None:
    assert database_fault(error) is fault


def test_a_fault_behind_another_error_is_found() -> None:
    try:
        try:
            raise ConnectionRefusedError()
        except ConnectionRefusedError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert database_fault(outer) is DatabaseFault.UNREACHABLE
    assert database_fault(None) is None
