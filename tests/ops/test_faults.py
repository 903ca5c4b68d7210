"""Database faults under load: clean 503s, no partial data, recovery without a restart."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import httpx
import pytest
from sqlalchemy import event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.gateway import Gateway
from tests.ops.conftest import MakeApp, services_of
from tests.ops.proxy import TCPProxy

MINE = """query Mine {
  me { phone email }
  orders(first: 20) { edges { node { orderNo buyerPhone buyer { phone } } } }
}"""
LEAKS = (
    "Traceback",
    "Error:",
    "OperationalError",
    "InterfaceError",
    "asyncpg",
    "sqlite",
    "SELECT",
    "FROM ",
    "psycopg",
    "Exception",
)


async def secret_values(gateway: Gateway) -> list[str]:
    """alice's phone and email, and the buyer phones of her orders."""
    async with gateway.services.engine.connect() as connection:
        user = (
            await connection.execute(
                text("SELECT id, phone, email FROM users WHERE username = 'alice'")
            )
        ).one()
        phones = (
            await connection.execute(
                text("SELECT buyer_phone FROM orders WHERE user_id = :id"), {"id": user.id}
            )
        ).scalars()
        values = [user.phone, user.email, *phones]
    return [v for v in values if isinstance(v, str) and len(v) >= 6]


def assert_clean(response: httpx.Response, secrets: Iterable[str]) -> None:
    """A complete answer (200, no error), or a clean 503 with one coded error and no data."""
    payload = response.json()
    if response.status_code == 200:
        assert "errors" not in payload, payload
        assert payload["data"]["me"]["phone"]
        return
    assert response.status_code == 503, response.text
    assert payload["data"] is None
    (error,) = payload["errors"]
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert error["extensions"]["reason"] in ("database_unreachable", "database_timeout")
    for leaked in (*LEAKS, *secrets):
        assert leaked not in response.text, leaked


async def load(client: httpx.AsyncClient, token: str, count: int) -> list[httpx.Response]:
    headers = {"authorization": f"Bearer {token}"}
    return list(
        await asyncio.gather(
            *(client.post("/graphql", json={"query": MINE}, headers=headers) for _ in range(count))
        )
    )


async def run_fault_cycle(
    client: httpx.AsyncClient, token: str, secrets: list[str], cut: Any, restore: Any
) -> None:
    """Load, cut in the middle, check every answer; then restore and check recovery."""
    assert (await client.get("/readyz")).status_code == 200
    in_flight = asyncio.create_task(load(client, token, 36))
    await asyncio.sleep(0.05)
    await cut()
    for response in await in_flight:
        assert_clean(response, secrets)
    during = await load(client, token, 12)
    assert {r.status_code for r in during} == {503}
    for response in during:
        assert_clean(response, secrets)
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["checks"]["database"] == "unreachable"
    metrics = (await client.get("/metrics")).text
    assert "fieldgate_database_up 0.0" in metrics

    await restore()
    recovered = await load(client, token, 12)
    assert {r.status_code for r in recovered} == {200}
    for response in recovered:
        assert_clean(response, secrets)
    assert (await client.get("/readyz")).json()["status"] == "ready"


def refuse_connections(engine: AsyncEngine) -> dict[str, bool]:
    """New SQLite connections fail while ``state["cut"]`` (as an unreadable file would)."""
    state = {"cut": False}

    @event.listens_for(engine.sync_engine, "do_connect")
    def _refuse(dialect: Any, _record: Any, _args: Any, _params: Any) -> None:
        if state["cut"]:
            raise dialect.loaded_dbapi.OperationalError("unable to open database file")

    @event.listens_for(engine.sync_engine, "checkout")
    def _lost(_connection: Any, _record: Any, _proxy: Any) -> None:
        if state["cut"]:  # a pooled connection is gone too: the pool reconnects, and fails
            raise exc.DisconnectionError()

    return state


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlite_fault_gives_clean_503s_and_recovers(
    gateway: Gateway, make_app: MakeApp
) -> None:
    app, client = make_app()
    engine = services_of(app).engine
    state = refuse_connections(engine)
    token = await gateway.token("alice")
    secrets = await secret_values(gateway)

    async def cut() -> None:
        state["cut"] = True

    async def restore() -> None:
        state["cut"] = False

    await run_fault_cycle(client, token, secrets, cut, restore)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_postgres_partition_gives_clean_503s_and_recovers(
    gateway: Gateway, make_app: MakeApp, proxy: TCPProxy
) -> None:
    proxied = make_url(gateway.database_url).set(host="127.0.0.1", port=proxy.port)
    _, client = make_app(
        database_url=proxied.render_as_string(hide_password=False), connect_timeout=2
    )
    token = await gateway.token("alice")
    secrets = await secret_values(gateway)

    async def cut() -> None:
        proxy.cut()

    async def restore() -> None:
        proxy.restore()

    await run_fault_cycle(client, token, secrets, cut, restore)


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_postgres_statement_timeout_gives_a_timeout_error(
    gateway: Gateway, make_app: MakeApp
) -> None:
    _, client = make_app(statement_timeout_ms=300)
    token = await gateway.token("alice")
    secrets = await secret_values(gateway)
    headers = {"authorization": f"Bearer {token}"}
    # Another session holds the users table: reading it waits, as a slow database would.
    async with gateway.services.engine.connect() as blocker:
        await blocker.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
        started = asyncio.get_running_loop().time()
        response = await client.post("/graphql", json={"query": MINE}, headers=headers)
        waited = asyncio.get_running_loop().time() - started
        await blocker.rollback()
    assert_clean(response, secrets)
    assert response.status_code == 503
    assert response.json()["errors"][0]["extensions"]["reason"] == "database_timeout"
    assert waited < 3  # the statement timeout, not a hang
    served = await client.post("/graphql", json={"query": MINE}, headers=headers)
    assert served.status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_bounded_pool_refuses_quickly_instead_of_piling_up(
    gateway: Gateway, make_app: MakeApp
) -> None:
    app, client = make_app(pool_size=1, max_overflow=0, pool_timeout=0.2)
    engine = services_of(app).engine
    courses = {"query": "{ courses(first: 2) { edges { node { title } } } }"}
    async with engine.connect() as held:  # the only connection is taken
        await held.execute(text("SELECT 1"))
        started = asyncio.get_running_loop().time()
        answers = await asyncio.gather(*(client.post("/graphql", json=courses) for _ in range(5)))
        waited = asyncio.get_running_loop().time() - started
    assert waited < 3
    for answer in answers:
        assert answer.status_code == 503
        assert answer.json()["data"] is None
        (error,) = answer.json()["errors"]
        assert error["extensions"] == {"code": "SERVICE_UNAVAILABLE", "reason": "database_timeout"}
    assert (await client.post("/graphql", json=courses)).status_code == 200
