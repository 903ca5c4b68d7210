"""The gateway's one Redis client: ``redis.asyncio``, made from ``FIELDGATE_REDIS_URL``.

``redis://[user[:password]@]host[:port][/db]``: the ACL user is logged in with, a password
may be ``%xx``-encoded, the path names the database, and ``rediss://`` speaks TLS with the
server's certificate checked (redis-py reads ``?ssl_ca_certs=…`` and its other options
from the query string). Replies are bytes.

Redis only ever helps (shared counters, early notifications, the shared shadow candidate),
so every command is tried once within a short timeout: a caller catching
:data:`REDIS_FAILURES` falls back to local state at once, and its next command connects
again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import (
    AuthenticationError,
    AuthorizationError,
    RedisError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

TIMEOUT = 2.0  # seconds to connect, and to wait for any reply
PING_TIMEOUT = 0.5  # a readiness probe answers well within a load balancer's own timeout

# What a Redis that is down, slow, or refusing a command raises.
REDIS_FAILURES: tuple[type[Exception], ...] = (RedisError, OSError)


def redis_failure(error: BaseException) -> str:
    """The reason code a Redis failure is logged with: ``redis_timeout``,
    ``redis_refused`` (credentials, rights or a command refused), ``redis_unreachable``
    (refused, reset or cut connections), else ``redis_error``; never the exception's class
    or text, which may name the address or a key."""
    if isinstance(error, RedisTimeoutError | TimeoutError):
        return "redis_timeout"
    if isinstance(error, AuthenticationError | AuthorizationError | ResponseError):
        return "redis_refused"
    if isinstance(error, RedisConnectionError | OSError | EOFError):
        return "redis_unreachable"
    return "redis_error"


def redis_client(url: str, *, timeout: float = TIMEOUT) -> Redis:
    """A client of ``url`` (no connection is opened before its first command); raises
    ``ValueError`` for a URL that is not ``redis://``, ``rediss://`` or ``unix://``, or
    whose path is not a database number."""
    parts = urlsplit(url)
    database = parts.path.strip("/")
    if parts.scheme in ("redis", "rediss") and database and not database.isdigit():
        raise ValueError("the path of a Redis URL is a database number")  # not 0 silently
    return Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),  # one attempt: the caller falls back instead of waiting
        decode_responses=False,
    )


def redis_ping(url: str, *, timeout: float = PING_TIMEOUT) -> Callable[[], Awaitable[object]]:
    """A PING of ``url`` for the readiness check, through a client of its own."""
    client = redis_client(url, timeout=timeout)

    async def ping() -> object:
        return await client.ping()

    return ping
