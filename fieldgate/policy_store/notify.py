"""Policy-change notifications over Redis pub/sub, spoken directly in RESP.

Only ``PUBLISH`` and ``SUBSCRIBE`` are needed, so a few lines over asyncio streams do the
work of a client library. A notification only wakes the watchers early: the revision id in
the database stays the truth, and polling finds every change even when Redis is down.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

POLICY_CHANNEL = "fieldgate:policy"
_CONNECT_TIMEOUT = 2.0


@dataclass(frozen=True, slots=True)
class RedisAddress:
    """Where Redis listens and how to log in (``redis://[user:password@]host[:port][/db]``)."""

    host: str
    port: int
    username: str | None
    password: str | None
    db: int

    @classmethod
    def parse(cls, url: str) -> RedisAddress:
        """Read a ``redis://`` URL; TLS (``rediss://``) is not supported."""
        parts = urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError("only redis:// URLs are supported")
        path = parts.path.strip("/")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 6379,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            db=int(path) if path else 0,
        )


def _command(*args: str) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


async def _reply(reader: asyncio.StreamReader) -> object:
    line = (await reader.readexactly(1)) + await reader.readline()
    kind, rest = line[:1], line[1:-2]
    if kind in (b"+", b":"):
        return rest
    if kind == b"-":
        raise ConnectionError("redis refused a command")  # its text may echo arguments
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else (await reader.readexactly(size + 2))[:-2]
    if kind == b"*":
        return [await _reply(reader) for _ in range(max(int(rest), 0))]
    raise ConnectionError("unexpected reply from redis")


@asynccontextmanager
async def _connection(
    address: RedisAddress,
) -> AsyncIterator[tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(address.host, address.port), _CONNECT_TIMEOUT
    )
    try:
        if address.password is not None:
            login = (
                (address.username, address.password) if address.username else (address.password,)
            )
            writer.write(_command("AUTH", *login))
            await _reply(reader)
        if address.db:
            writer.write(_command("SELECT", str(address.db)))
            await _reply(reader)
        yield reader, writer
    finally:
        writer.close()
        await writer.wait_closed()


async def publish(url: str, message: str, channel: str = POLICY_CHANNEL) -> None:
    """Send ``message`` to every subscriber of ``channel``."""
    async with _connection(RedisAddress.parse(url)) as (reader, writer):
        writer.write(_command("PUBLISH", channel, message))
        await _reply(reader)


async def subscribe(url: str, channel: str = POLICY_CHANNEL) -> AsyncIterator[bytes]:
    """Every message published on ``channel`` from now on; ends when the connection drops."""
    async with _connection(RedisAddress.parse(url)) as (reader, writer):
        writer.write(_command("SUBSCRIBE", channel))
        await writer.drain()
        while True:
            try:
                reply = await _reply(reader)
            except asyncio.IncompleteReadError:
                return
            if isinstance(reply, list) and len(reply) == 3 and reply[0] == b"message":
                payload = reply[2]
                yield payload if isinstance(payload, bytes) else b""
