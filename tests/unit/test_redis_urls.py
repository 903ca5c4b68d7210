"""``FIELDGATE_REDIS_URL`` as the one Redis client reads it: the ACL user, a ``%xx``-encoded
password, the database number, TLS for ``rediss://``, and timeouts that never wait long."""

from __future__ import annotations

import ssl
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.connection import Connection, SSLConnection

from fieldgate.infra.redis import TIMEOUT, redis_client


def connection_of(client: Redis) -> tuple[type[Any], dict[str, Any]]:
    pool = client.connection_pool
    return pool.connection_class, pool.connection_kwargs


def test_the_acl_user_and_an_encoded_password_are_read() -> None:
    kind, kwargs = connection_of(redis_client("redis://gateway:s%40cr%3At%2F1@cache:6380/2"))
    assert kind is Connection
    assert (kwargs["username"], kwargs["password"]) == ("gateway", "s@cr:t/1")
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("cache", 6380, 2)


def test_a_password_alone_logs_in_as_the_default_user() -> None:
    _, kwargs = connection_of(redis_client("redis://:s%40cret@cache/3"))
    assert kwargs.get("username") is None
    assert (kwargs["password"], kwargs["db"]) == ("s@cret", 3)


def test_rediss_speaks_tls_and_checks_the_certificate() -> None:
    kind, kwargs = connection_of(redis_client("rediss://gateway:pw@cache.internal:6380/1"))
    assert kind is SSLConnection
    assert (kwargs["host"], kwargs["port"], kwargs["db"]) == ("cache.internal", 6380, 1)
    connection = kind(**kwargs)
    assert connection.ssl_context.cert_reqs is ssl.CERT_REQUIRED
    assert connection.ssl_context.check_hostname is True


def test_defaults_and_timeouts() -> None:
    client = redis_client("redis://cache")
    _, kwargs = connection_of(client)
    assert (kwargs["host"], kwargs.get("port", 6379), kwargs.get("db", 0)) == ("cache", 6379, 0)
    assert kwargs["socket_timeout"] == kwargs["socket_connect_timeout"] == TIMEOUT
    assert kwargs["retry"].get_retries() == 0  # a failure falls back at once
    short = connection_of(redis_client("redis://cache", timeout=0.5))[1]
    assert short["socket_timeout"] == short["socket_connect_timeout"] == 0.5


@pytest.mark.parametrize(
    "url",
    ["http://cache", "cache:6379", "redis:cache", "redis://cache/sessions", "redis://cache/-1"],
)
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        redis_client(url)
