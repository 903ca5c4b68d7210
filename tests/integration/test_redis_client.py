"""The one Redis client against a real Redis: an ACL user with an encoded password logs in,
the rate limiter calls its script by SHA1 (sent once, sent again after ``SCRIPT FLUSH``),
notifications reach a subscriber, and a Redis that does not answer costs one short timeout."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from fieldgate.infra.redis import REDIS_FAILURES, redis_client
from fieldgate.policy_store.notify import publish, subscribe
from fieldgate.ratelimit.limiter import _INCREMENT, RateLimiter

REDIS_DB = 12  # apart from the databases other tests use; every key here is unique anyway
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A client of the test database, or a skip saying why."""
    client = redis_client(REDIS_URL)
    try:
        await client.ping()
    except REDIS_FAILURES:
        await client.aclose()
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    yield client
    await client.aclose()


def unique(kind: str) -> str:
    return f"{kind}:test-{uuid.uuid4().hex}"


async def test_an_acl_user_with_an_encoded_password_logs_in(redis: Redis) -> None:
    user, password = f"fieldgate-test-{uuid.uuid4().hex}", "s@cr:t/%1 ?"
    await redis.acl_setuser(
        user, enabled=True, passwords=[f"+{password}"], commands=["+ping", "+select"]
    )
    try:
        encoded = "s%40cr%3At%2F%251%20%3F"
        client = redis_client(f"redis://{user}:{encoded}@127.0.0.1:6379/{REDIS_DB}")
        try:
            assert await client.ping() is True
        finally:
            await client.aclose()
        wrong = redis_client(f"redis://{user}:s@127.0.0.1:6379/{REDIS_DB}")
        try:
            with pytest.raises(REDIS_FAILURES):
                await wrong.ping()
        finally:
            await wrong.aclose()
    finally:
        await redis.acl_deluser(user)


async def commands_on_the_wire(
    redis: Redis, counting: Redis, limiter: RateLimiter, key: str, calls: int
) -> list[str]:
    """What ``limiter`` sent through ``counting`` while charging ``key`` ``calls`` times, as
    ``MONITOR`` saw it (every other client's commands left out)."""
    address = (await counting.client_info())["addr"]  # its one connection, opened here
    end = unique("end")
    seen: list[str] = []
    async with redis.monitor() as monitor:
        for _ in range(calls):
            assert await limiter.charge_request([key]) is None
        await counting.echo(end)
        while True:
            command = await monitor.next_command()
            if f"{command['client_address']}:{command['client_port']}" != address:
                continue
            if end in command["command"]:
                return seen
            seen.append(command["command"])


async def test_the_script_is_called_by_its_sha_not_sent_with_every_request(
    redis: Redis,
) -> None:
    counting = redis_client(REDIS_URL)
    limiter = RateLimiter(requests=100, cost=0, redis=counting)
    try:
        sent = await commands_on_the_wire(redis, counting, limiter, unique("token"), 5)
        names = [command.split(" ", 1)[0].upper() for command in sent]
        assert "EVAL" not in names
        assert names.count("EVALSHA") in (5, 6)  # 6: the first found the script not loaded
        assert sum(_INCREMENT.strip() in command for command in sent) <= 1  # SCRIPT LOAD
        assert limiter.backend_status() == "redis"
    finally:
        await limiter.close()


async def test_a_flushed_script_is_loaded_again(redis: Redis) -> None:
    counting = redis_client(REDIS_URL)
    limiter = RateLimiter(requests=3, cost=0, redis=counting)
    try:
        key = unique("token")
        assert await limiter.charge_request([key]) is None
        await redis.script_flush()  # every script Redis knew: the next EVALSHA is NOSCRIPT
        assert await limiter.charge_request([key]) is None
        assert limiter.backend_status() == "redis"  # no fallback to local counters
        assert await limiter.charge_request([key]) is None
        assert await limiter.charge_request([key]) is not None  # the fourth: one counter
        sent = await commands_on_the_wire(redis, counting, limiter, unique("token"), 2)
        assert [command.split(" ", 1)[0].upper() for command in sent] == ["EVALSHA"] * 2
    finally:
        await limiter.close()


async def test_a_published_revision_reaches_a_subscriber(redis: Redis) -> None:
    channel = unique("fieldgate:policy")
    received: list[bytes] = []

    async def listen() -> None:
        async for message in subscribe(redis, channel):
            received.append(message)
            return

    task = asyncio.create_task(listen())
    for _ in range(50):  # until the subscription is in place
        await publish(redis, "42", channel)
        await asyncio.sleep(0.02)
        if task.done():
            break
    await asyncio.wait_for(task, 2)
    assert received == [b"42"]


async def test_a_redis_that_never_answers_costs_one_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # accepts, reads, never answers
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    limiter = RateLimiter(
        requests=1, cost=0, redis=redis_client(f"redis://127.0.0.1:{port}/0", timeout=0.2)
    )
    try:
        started = time.monotonic()
        assert await limiter.charge_request(["token:t"]) is None
        assert time.monotonic() - started < 1.0
        assert limiter.backend_status() == "unavailable"
        assert await limiter.charge_request(["token:t"]) is not None  # counted here instead
    finally:
        await limiter.close()
        server.close()
        await server.wait_closed()
