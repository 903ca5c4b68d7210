"""Faults that are not the gateway's own, logged as what they are: a client that went away
mid-body is no 500, and a Redis or database failure is logged by a reason code, never its
class."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from graphql import GraphQLError
from redis import exceptions as redis_exceptions
from redis.exceptions import RedisError
from starlette.types import Message

from fieldgate.errors import PolicyError
from fieldgate.infra.faults import failure_reason
from fieldgate.infra.redis import redis_client, redis_failure
from fieldgate.observability.logging import configure_logging
from fieldgate.ratelimit.limiter import RateLimiter
from fieldgate.schema import build_schema
from tests.fleet import free_port
from tests.gateway import Gateway


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    yield stream
    configure_logging("INFO")


def parsed(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_client_that_leaves_mid_body_is_logged_as_gone_not_as_a_500(
    gateway: Gateway, log_lines: io.StringIO
) -> None:
    body = b'{"query": "{ courses(first: 2) { edges { node { title } } } }"}'
    messages: list[Message] = [
        {"type": "http.request", "body": body[:20], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)  # pragma: no cover - the client has gone
        raise AssertionError

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"test"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("test", 80),
        "state": {},
    }
    await gateway.app(scope, receive, send)
    lines = parsed(log_lines)
    assert not [x for x in lines if x.get("code") == "INTERNAL_SERVER_ERROR"], lines
    assert not [x for x in lines if x.get("event") == "request_failed"], lines
    (request,) = [x for x in lines if x.get("event") == "request"]
    assert request["status"] == 499 and request["level"] == "info"
    assert [x for x in lines if x.get("event") == "client_disconnected"]
    assert not [m for m in sent if m.get("status") == 500]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (redis_exceptions.ConnectionError("Connection closed by server."), "redis_unreachable"),
        (ConnectionRefusedError(111, "refused at 127.0.0.1:6379"), "redis_unreachable"),
        (asyncio.IncompleteReadError(b"", 5), "redis_unreachable"),
        (redis_exceptions.TimeoutError("Timeout reading from 127.0.0.1:6379"), "redis_timeout"),
        (TimeoutError(), "redis_timeout"),
        (redis_exceptions.AuthenticationError("invalid password"), "redis_refused"),
        (redis_exceptions.ResponseError("NOSCRIPT fieldgate:rate:1"), "redis_refused"),
        (redis_exceptions.DataError("bad"), "redis_error"),
    ],
)
def test_a_redis_failure_has_a_reason_code(error: BaseException, reason: str) -> None:
    assert redis_failure(error) == reason
    if isinstance(error, RedisError):  # in a background task too
        assert failure_reason(error) == reason


def test_a_background_failure_has_a_reason_code() -> None:
    assert failure_reason(PolicyError("no rule")) == "policy_invalid"
    assert failure_reason(ValueError("x")) == "unexpected"


async def test_the_rate_limiter_logs_a_lost_redis_by_reason_not_class(
    log_lines: io.StringIO,
) -> None:
    closed = free_port()  # nobody listens: every command fails to connect
    limiter = RateLimiter(requests=5, cost=0, redis=redis_client(f"redis://127.0.0.1:{closed}/9"))
    try:
        assert await limiter.charge_request(["token:t"]) is None  # counted here instead
    finally:
        await limiter.close()
    (line,) = [x for x in parsed(log_lines) if x.get("event") == "rate_limit_redis_unavailable"]
    assert line["reason"] == "redis_unreachable"
    text = log_lines.getvalue()
    for named in ("ConnectionError", "Error", "IncompleteRead", str(closed), "error_class"):
        assert named not in text, named


def test_a_resolver_that_lost_the_database_is_logged_by_reason(log_lines: io.StringIO) -> None:
    lost = GraphQLError("lost", original_error=ConnectionResetError(104, "reset by 10.0.0.5"))
    broken = GraphQLError("broken", original_error=RuntimeError("a bug"))
    build_schema().process_errors([lost, broken])
    lines = parsed(log_lines)
    (database,) = [x for x in lines if x.get("event") == "database_unavailable"]
    assert database["reason"] == "database_unreachable" and database["level"] == "warning"
    (failed,) = [x for x in lines if x.get("event") == "resolver_failed"]  # a bug stays one
    assert "error_id" in failed
    assert "10.0.0.5" not in log_lines.getvalue()
