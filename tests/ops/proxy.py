"""A TCP proxy on 127.0.0.1 (a random port) in front of a database, that tests can cut."""

from __future__ import annotations

import asyncio
import contextlib


class TCPProxy:
    """Forwards connections to ``upstream``; :meth:`cut` drops every connection and refuses
    new ones (as a network partition would), :meth:`restore` lets them through again."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self.is_cut = False
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.is_cut:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self._writers.update((writer, up_writer))
        for source, target in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, target))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await source.read(65536):
                target.write(data)
                await target.drain()
        target.close()
        self._writers.discard(target)

    def cut(self) -> None:
        """Drop every open connection; refuse new ones until :meth:`restore`."""
        self.is_cut = True
        for writer in list(self._writers):
            transport = writer.transport
            transport.abort()  # a reset, not a polite close
        self._writers.clear()

    def restore(self) -> None:
        self.is_cut = False

    async def close(self) -> None:
        self.cut()
        for task in list(self._tasks):
            task.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
