"""A fleet of real ``fieldgate serve`` processes on loopback, sharing one database and Redis.

Each server is its own process on its own free port, started like an operator would start
it (``python -m fieldgate.cli serve``, configured by ``FIELDGATE_*`` variables) and ready
once ``/readyz`` answers 200. Redis is reached through :class:`RedisProxy`, a TCP relay in
a thread of its own, so that a test can take Redis away from every server and give it back.
The CLI (``fieldgate token issue`` …) runs as a process too, on the same database and keys.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

START_TIMEOUT = 30.0  # seconds for a server to answer /readyz
STOP_TIMEOUT = 10.0  # seconds for a server to leave after SIGTERM
TAIL_LINES = 40  # lines of each server's stderr shown with a failure


def free_port() -> int:
    """A TCP port nobody listens on now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def jti_of(token: str) -> str:
    """The ``jti`` claim of a JWT, read without verifying it (the servers verify)."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return str(claims["jti"])


def server_environment(changes: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without its ``FIELDGATE_*`` variables, plus ``changes``."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("FIELDGATE_")}
    return {**kept, **changes}


class RedisProxy:
    """Relays TCP connections from a local port to Redis, in a thread with its own event
    loop (a test that blocks its own loop does not stall the servers' Redis calls).
    :meth:`stop` closes the port and every relayed connection: Redis is gone for whoever
    used it; :meth:`start` opens the same port again."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    def start(self) -> None:
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(5)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(5)

    def close(self) -> None:
        self.stop()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _start(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for writer in list(self._writers):
            writer.close()
        self._writers.clear()
        if server is not None:
            await server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
            self._writers.discard(writer)


@dataclass
class Server:
    """One ``fieldgate serve`` process."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    client: httpx.AsyncClient = field(init=False)
    log_offset: int = 0  # where the current test's lines begin

    def __post_init__(self) -> None:
        self.client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=10)

    def stderr(self, *, since_offset: bool = False, lines: int = TAIL_LINES) -> str:
        """The last ``lines`` lines the server wrote to stderr (since the test began)."""
        with self.log.open("rb") as handle:
            handle.seek(self.log_offset if since_offset else 0)
            text = handle.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])

    def mark(self) -> None:
        self.log_offset = self.log.stat().st_size

    async def post(
        self, query: str, token: str | None = None, variables: dict[str, Any] | None = None
    ) -> httpx.Response:
        headers = {} if token is None else {"authorization": f"Bearer {token}"}
        body: dict[str, Any] = {"query": query, "variables": variables or {}}
        return await self.client.post("/graphql", json=body, headers=headers)

    async def gql(
        self, query: str, token: str | None = None, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """POST an operation and decode the answer (failing on anything but 200)."""
        response = await self.post(query, token, variables)
        assert response.status_code == 200, (self.name, response.status_code, response.text)
        payload: dict[str, Any] = response.json()
        return payload

    async def readyz(self) -> tuple[int, dict[str, Any]]:
        response = await self.client.get("/readyz")
        return response.status_code, response.json()

    async def wait_ready(self, within: float = START_TIMEOUT) -> None:
        """Wait until ``/readyz`` answers 200; fail with the server's stderr otherwise."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.stderr()}")
            with contextlib.suppress(httpx.TransportError):
                if (await self.client.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
        pytest.fail(f"{self.name} not ready within {within} s:\n{self.stderr()}")

    async def stop(self) -> None:
        """SIGTERM, as an orchestrator would; SIGKILL if it does not leave in time."""
        await self.client.aclose()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(self.process.wait, STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                await asyncio.to_thread(self.process.wait)


def start_server(name: str, environment: Mapping[str, str], folder: Path, *options: str) -> Server:
    """Start ``fieldgate serve OPTIONS…`` on a free port; its stderr (and stdout) go to a
    file."""
    port = free_port()
    log = folder / f"{name}.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "fieldgate.cli", "serve", "--port", str(port), *options],
            env=dict(environment),
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    return Server(name, port, process, log)


async def run_cli(environment: Mapping[str, str], *args: str) -> str:
    """Run ``fieldgate ARGS…``; its stdout (failing with its stderr when it exits non-zero)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fieldgate.cli",
        *args,
        env=dict(environment),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        pytest.fail(f"fieldgate {' '.join(args[:2])} exited {process.returncode}: {err.decode()}")
    return out.decode()


@dataclass
class Fleet:
    """The servers, the proxy in front of Redis, and the environment they share."""

    servers: list[Server]
    proxy: RedisProxy
    environment: dict[str, str]
    rate_limit: int

    async def cli(self, *args: str) -> str:
        return await run_cli(self.environment, *args)

    async def tokens(self, *subjects: str) -> list[str]:
        """One new token per subject, from ``fieldgate token issue`` (run side by side)."""
        printed = await asyncio.gather(*(self.cli("token", "issue", "--sub", s) for s in subjects))
        return [text.strip() for text in printed]

    def diagnosis(self) -> str:
        """Every server's stderr since the current test began."""
        return "\n".join(
            f"--- {s.name} (port {s.port}) ---\n{s.stderr(since_offset=True)}" for s in self.servers
        )


class ShowServerLogs:
    """A pytest plugin, registered while a fleet runs: a failing test's report carries the
    servers' stderr since the test began."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        for server in self.fleet.servers:
            server.mark()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        outcome = yield
        report = outcome.get_result()
        if report.failed and "fleet" in getattr(item, "fixturenames", ()):
            report.sections.append(("fleet servers' stderr", self.fleet.diagnosis()))


async def seconds_until(done: Any, *, limit: float, every: float = 0.05) -> float:
    """Poll ``await done()`` every ``every`` seconds; the seconds until it was true
    (fails once ``limit`` has passed)."""
    started = time.monotonic()
    while True:
        if await done():
            return time.monotonic() - started
        if time.monotonic() - started > limit:
            pytest.fail(f"not done within {limit} s")
        await asyncio.sleep(every)


async def fresh_rate_window(needed: float, window: int = 60) -> None:
    """Sleep into the next fixed rate-limit window unless ``needed`` seconds remain in this
    one (so that no count is split by a window boundary)."""
    left = window - time.time() % window
    if left < needed:
        await asyncio.sleep(left + 0.05)
