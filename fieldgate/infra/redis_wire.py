"""A minimal Redis client: one connection, RESP2 requests and replies, nothing else.

Enough for the shared rate-limit counters (one ``EVAL`` per request). Every failure —
refused connection, timeout, a closed socket, an error reply — is ``RedisUnavailable``;
the caller falls back to counting per instance.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit


class RedisUnavailable(Exception):
    """Redis could not answer; the message names no value and no key."""


Reply = int | bytes | list["Reply"] | None


class RedisWire:
    """One lazily opened connection to ``redis://host:port/db``; commands are serialised."""

    def __init__(self, url: str, *, timeout: float = 2.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "redis":
            raise ValueError("only redis:// URLs are supported")
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 6379
        self.db = int(parts.path.lstrip("/") or 0)
        self.password = parts.password
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()

    async def command(self, *args: str | int) -> Reply:
        """Send one command and return its reply; any failure closes the connection."""
        async with self._lock:
            try:
                return await asyncio.wait_for(self._command(args), self.timeout)
            except (OSError, EOFError, TimeoutError, asyncio.IncompleteReadError) as exc:
                await self.close()
                raise RedisUnavailable(f"redis did not answer ({type(exc).__name__})") from None
            except RedisUnavailable:
                await self.close()
                raise

    async def close(self) -> None:
        """Close the connection (the next command opens a new one)."""
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _command(self, args: tuple[str | int, ...]) -> Reply:
        if self._writer is None:
            await self._connect()
        return await self._roundtrip(args)

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        if self.password:
            await self._roundtrip(("AUTH", self.password))
        if self.db:
            await self._roundtrip(("SELECT", self.db))

    async def _roundtrip(self, args: tuple[str | int, ...]) -> Reply:
        assert self._reader is not None and self._writer is not None
        self._writer.write(encode(args))
        await self._writer.drain()
        return await read_reply(self._reader)


def encode(args: tuple[str | int, ...]) -> bytes:
    """A RESP array of bulk strings."""
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


async def read_reply(reader: asyncio.StreamReader) -> Reply:
    """One RESP2 reply; an error reply raises ``RedisUnavailable`` (its text is not kept)."""
    line = await reader.readuntil(b"\r\n")
    kind, body = line[:1], line[1:-2]
    if kind == b"+":
        return body
    if kind == b"-":
        raise RedisUnavailable("redis answered with an error")
    if kind == b":":
        return int(body)
    if kind == b"$":
        size = int(body)
        if size < 0:
            return None
        data = await reader.readexactly(size + 2)
        return data[:-2]
    if kind == b"*":
        count = int(body)
        if count < 0:
            return None
        return [await read_reply(reader) for _ in range(count)]
    raise RedisUnavailable("redis sent an unreadable reply")
