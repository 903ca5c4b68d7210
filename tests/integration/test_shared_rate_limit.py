"""Two gateway instances on one database share their rate limits through Redis; with
Redis unreachable each falls back to its own counters, and disclosure is unchanged."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from fieldgate.app import create_app
from fieldgate.infra.redis import REDIS_FAILURES, redis_client
from tests.gateway import Gateway

REDIS_DB = 13  # flushed by these tests: keep it apart from the databases others use
REDIS_URL = os.environ.get("FIELDGATE_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{REDIS_DB}")
CLOSED_PORT_URL = "redis://127.0.0.1:1/0"
COURSES = "{ courses(first: 2) { edges { node { title } } } }"
LIMIT = 5


async def flushed_redis() -> None:
    """Empty the test's Redis database, or skip saying why; then wait, if need be, for a
    fresh one-minute window, so that the requests a test counts all fall into one."""
    if time.time() % 60 > 50:
        await asyncio.sleep(60.5 - time.time() % 60)
    client = redis_client(REDIS_URL)
    try:
        await client.flushdb()
    except REDIS_FAILURES:
        pytest.skip(f"Redis is not reachable at {REDIS_URL}: shared rate limits not tested")
    finally:
        await client.aclose()


async def instances(gateway: Gateway, redis_url: str, **changes: Any) -> list[Gateway]:
    """Two apps on the gateway's database and keys, both counting through ``redis_url``."""
    settings = gateway.services.settings.model_copy(
        update={"redis_url": redis_url, "rate_limit_requests": LIMIT, **changes}
    )
    built = []
    for _ in range(2):
        app = create_app(settings)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        built.append(Gateway(app, client, gateway.database_url))
    return built


@pytest.fixture
async def closing() -> AsyncIterator[list[Gateway]]:
    opened: list[Gateway] = []
    yield opened
    for instance in opened:
        await instance.client.aclose()
        limiter = instance.services.rate_limiter
        if limiter is not None:
            await limiter.close()
        await instance.services.engine.dispose()


async def test_two_instances_share_one_limit(gateway: Gateway, closing: list[Gateway]) -> None:
    await flushed_redis()
    first, second = await instances(gateway, REDIS_URL)
    closing.extend([first, second])
    token = await first.token("alice")
    statuses = [
        (await (first if i % 2 else second).post(COURSES, token=token)).status_code
        for i in range(LIMIT + 2)
    ]
    assert statuses == [200] * LIMIT + [429, 429]
    for instance in (first, second):
        assert instance.services.rate_limiter is not None
        assert instance.services.rate_limiter.backend_status() == "redis"


async def test_concurrent_requests_hit_the_limit_exactly(
    gateway: Gateway, closing: list[Gateway]
) -> None:
    await flushed_redis()
    first, second = await instances(gateway, REDIS_URL, rate_limit_requests=LIMIT + 1)
    closing.extend([first, second])
    token = await first.token("sf-express")
    responses = await asyncio.gather(
        *((first if i % 2 else second).post(COURSES, token=token) for i in range(LIMIT + 4))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * (LIMIT + 1) + [429] * 3


async def test_unreachable_redis_falls_back_per_instance(
    gateway: Gateway, closing: list[Gateway]
) -> None:
    first, second = await instances(gateway, CLOSED_PORT_URL)
    closing.extend([first, second])
    token = await first.token("alice")
    for instance in (first, second):  # each counts on its own: LIMIT each
        statuses = [(await instance.post(COURSES, token=token)).status_code for _ in range(LIMIT)]
        assert statuses == [200] * LIMIT
        assert (await instance.post(COURSES, token=token)).status_code == 429
        limiter = instance.services.rate_limiter
        assert limiter is not None and limiter.backend_status() == "unavailable"


async def test_fallback_discloses_nothing_more(gateway: Gateway, closing: list[Gateway]) -> None:
    first, _ = await instances(gateway, CLOSED_PORT_URL, rate_limit_requests=100)
    closing.append(first)
    token = await first.token("sf-express")
    hidden = await first.gql("{ orders(first: 1) { edges { node { bankCard } } } }", token=token)
    assert hidden["data"] is None
    assert hidden["errors"][0]["message"] == "Cannot query field 'bankCard' on type 'Order'."
    anonymous = await first.gql("{ orders(first: 1) { totalCount } }")
    assert anonymous["data"] is None
    user = await first.gql(
        "{ orders(first: 5) { edges { node { bankCard buyerIdNumber } } } }", as_="alice"
    )
    for edge in user["data"]["orders"]["edges"]:
        card = edge["node"]["bankCard"]
        assert card is None or "*" in card  # the owner sees the card masked, never in full
