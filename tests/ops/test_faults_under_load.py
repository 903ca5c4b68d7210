"""The database cut under a steady mixed load, and given back: every answer is complete
or a clean 503, before, during and after the cut.

Readers of their own data, an audited support read, an anonymous catalogue read and a
mutation run in waves of concurrent requests while the test cuts the database (a TCP
proxy in front of PostgreSQL, refused connections on SQLite) and gives it back. Every
non-2xx is a 503 whose one error is ``SERVICE_UNAVAILABLE`` with ``data: null``; every
200 carries all the data asked for and no error. Bounded: at most ``MAX_WAVES`` waves of
``WAVE`` requests, and a few seconds, all on loopback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.gateway import Gateway
from tests.ops.conftest import MakeApp, services_of
from tests.ops.proxy import TCPProxy
from tests.ops.test_faults import LEAKS, refuse_connections, secret_values

WAVE = 8  # concurrent requests per wave
MAX_WAVES = 150
PAUSE = 0.05  # seconds between waves: 503s come back fast
CUT_SECONDS = 1.0
AFTER_SECONDS = 1.0  # of load once the database answers /readyz again
READY_WITHIN = 10.0

MINE = "query Mine { me { phone email } orders(first: 5) { edges { node { orderNo } } } }"
SUPPORT = (
    "query Support @purpose(name: CUSTOMER_SUPPORT) "
    "{ orders(first: 3) { edges { node { orderNo buyerPhone } } } }"
)
COURSES = "query Courses { courses(first: 3) { edges { node { title } } } }"
RENAME = 'mutation Rename { updateMyProfile(input: {nickname: "under-load"}) { nickname } }'

Cut = Callable[[], Awaitable[None]]


def complete(data: Any) -> bool:
    """Every root field answered (a connection's edges may be empty, never null)."""
    return isinstance(data, dict) and bool(data) and all(v is not None for v in data.values())


def outcome(response: httpx.Response, secrets: list[str]) -> str:
    """``ok`` for a complete answer, ``unavailable`` for a clean 503, else what is wrong
    (status and body, for the failure report)."""
    wrong = f"{response.status_code} {response.text[:300]}"
    payload = response.json()
    if response.status_code == 200:
        clean = "errors" not in payload and "SERVICE_UNAVAILABLE" not in response.text
        return "ok" if clean and complete(payload.get("data")) else wrong
    data = payload.get("data")
    if response.status_code != 503 or (data is not None and any(data.values())):
        return wrong
    errors = payload.get("errors") or []
    # the database's own refusal names its reason; the audit trail's (not yet able to take
    # what the answer would disclose, right after the database is back) has none
    if not errors or any(
        e.get("extensions", {}).get("code") != "SERVICE_UNAVAILABLE"
        or e.get("extensions", {}).get("reason")
        not in ("database_unreachable", "database_timeout", None)
        for e in errors
    ):
        return wrong
    if any(leaked in response.text for leaked in (*LEAKS, *secrets)):
        return wrong
    return "unavailable"


async def run_under_load(
    client: httpx.AsyncClient, gateway: Gateway, cut: Cut, restore: Cut
) -> dict[str, list[str]]:
    """Waves of mixed requests before a cut, during it, and once the database is back
    (from the moment it is given back); each phase's outcomes."""
    alice, support = await gateway.token("alice"), await gateway.token("support1")
    secrets = await secret_values(gateway)
    asked = [(MINE, alice), (SUPPORT, support), (COURSES, None), (RENAME, alice)]
    phase = "before"
    outcomes: dict[str, list[str]] = {"before": [], "cut": [], "back": []}
    stop = asyncio.Event()

    async def one(query: str, token: str | None) -> httpx.Response:
        headers = {} if token is None else {"authorization": f"Bearer {token}"}
        return await client.post("/graphql", json={"query": query}, headers=headers)

    async def waves() -> None:
        for _ in range(MAX_WAVES):
            if stop.is_set():
                return
            wave = [asked[i % len(asked)] for i in range(WAVE)]
            answers = await asyncio.gather(*(one(q, t) for q, t in wave))
            # a wave across a change belongs to the later phase: the cut, or the return
            outcomes[phase] += [outcome(response, secrets) for response in answers]
            await asyncio.sleep(PAUSE)

    async def waves_in(wanted: str, count: int) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while len(outcomes[wanted]) < count * WAVE:
            assert not load.done() and time.monotonic() < deadline, outcomes
            await asyncio.sleep(0.05)

    load = asyncio.create_task(waves())
    try:
        await waves_in("before", 2)
        phase = "cut"
        await cut()
        await asyncio.sleep(CUT_SECONDS)
        phase = "back"
        await restore()
        deadline = time.monotonic() + READY_WITHIN
        while (await client.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, "not ready again"
            await asyncio.sleep(0.1)
        await asyncio.sleep(AFTER_SECONDS)
        await waves_in("back", 2)
    finally:
        stop.set()
        await load
    return outcomes


def problems(outcomes: list[str]) -> list[str]:
    return [o for o in outcomes if o not in ("ok", "unavailable")]


def assert_served_then_refused_then_served(outcomes: dict[str, list[str]]) -> None:
    """Complete answers before the cut, complete ones or clean 503s while it lasts (some
    503s), and complete answers again once the database is back."""
    assert outcomes["before"] and set(outcomes["before"]) == {"ok"}, problems(outcomes["before"])
    assert not problems(outcomes["cut"]), problems(outcomes["cut"])
    assert "unavailable" in outcomes["cut"]
    assert outcomes["back"][-WAVE:] == ["ok"] * WAVE, outcomes["back"][-WAVE:]


async def cut_sqlite(gateway: Gateway, make_app: MakeApp) -> dict[str, list[str]]:
    app, client = make_app()
    state = refuse_connections(services_of(app).engine)

    async def cut() -> None:
        state["cut"] = True

    async def restore() -> None:
        state["cut"] = False

    return await run_under_load(client, gateway, cut, restore)


async def cut_postgres(
    gateway: Gateway, make_app: MakeApp, proxy: TCPProxy
) -> dict[str, list[str]]:
    proxied = make_url(gateway.database_url).set(host="127.0.0.1", port=proxy.port)
    _, client = make_app(
        database_url=proxied.render_as_string(hide_password=False), connect_timeout=2
    )

    async def cut() -> None:
        proxy.cut()

    async def restore() -> None:
        proxy.restore()

    return await run_under_load(client, gateway, cut, restore)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlite_cut_under_load_answers_complete_data_or_clean_503s(
    gateway: Gateway, make_app: MakeApp
) -> None:
    assert_served_then_refused_then_served(await cut_sqlite(gateway, make_app))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_sqlite_answers_right_after_the_cut_are_complete_or_clean_503s(
    gateway: Gateway, make_app: MakeApp
) -> None:
    outcomes = await cut_sqlite(gateway, make_app)
    assert not problems(outcomes["back"]), problems(outcomes["back"])


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_postgres_cut_under_load_answers_complete_data_or_clean_503s(
    gateway: Gateway, make_app: MakeApp, proxy: TCPProxy
) -> None:
    assert_served_then_refused_then_served(await cut_postgres(gateway, make_app, proxy))


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_postgres_answers_right_after_the_cut_are_complete_or_clean_503s(
    gateway: Gateway, make_app: MakeApp, proxy: TCPProxy
) -> None:
    outcomes = await cut_postgres(gateway, make_app, proxy)
    assert not problems(outcomes["back"]), problems(outcomes["back"])
