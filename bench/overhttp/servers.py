"""Server processes of a run: the gateway under uvicorn or granian, and the peer under Node."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.checks import BenchAborted
from bench.overhttp.cpu import PROC, process_stats

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
SERVERS = ("uvicorn", "granian")
LOOPS = ("uvloop", "asyncio")
# the HTTP implementations each server offers, its default first
HTTP_IMPLEMENTATIONS = {"uvicorn": ("httptools", "h11"), "granian": ("hyper",)}


@dataclass(frozen=True, slots=True)
class ServerSetup:
    """How the gateway is served: the server, its worker processes, event loop and HTTP code.

    ``http`` None is the server's default: httptools for uvicorn; granian has one HTTP
    implementation, hyper (Rust), and takes HTTP/1 only, as uvicorn does.
    """

    server: str = "uvicorn"
    workers: int = 1
    loop: str = "uvloop"
    http: str | None = None

    def __post_init__(self) -> None:
        if self.server not in SERVERS:
            raise ValueError(f"unknown server {self.server!r}; known: {list(SERVERS)}")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.loop not in LOOPS:
            raise ValueError(f"unknown event loop {self.loop!r}; known: {list(LOOPS)}")
        if self.http is not None and self.http not in HTTP_IMPLEMENTATIONS[self.server]:
            known = list(HTTP_IMPLEMENTATIONS[self.server])
            raise ValueError(f"{self.server} has no HTTP implementation {self.http!r}: {known}")

    @property
    def http_implementation(self) -> str:
        return self.http or HTTP_IMPLEMENTATIONS[self.server][0]

    @property
    def label(self) -> str:
        """``uvicorn (uvloop, httptools), 2 workers``."""
        plural = "worker" if self.workers == 1 else "workers"
        return f"{self.server} ({self.loop}, {self.http_implementation}), {self.workers} {plural}"

    def command(self, port: int) -> list[str]:
        """The command line serving ``fieldgate.app:create_app`` on ``127.0.0.1:port``."""
        if self.server == "granian":
            return [
                sys.executable, "-m", "granian", "--interface", "asgi", "--factory",
                "--host", "127.0.0.1", "--port", str(port), "--workers", str(self.workers),
                "--loop", self.loop, "--http", "1", "--no-ws", "--no-access-log",
                "--log-level", "warning", "fieldgate.app:create_app",
            ]  # fmt: skip
        return [
            sys.executable, "-m", "uvicorn", "fieldgate.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(self.workers),
            "--loop", self.loop, "--http", self.http_implementation, "--no-access-log",
            "--no-server-header", "--log-level", "warning",
        ]  # fmt: skip

    def as_json(self) -> dict[str, object]:
        return {
            "server": self.server,
            "workers": self.workers,
            "loop": self.loop,
            "http": self.http_implementation,
        }


def server_missing(server: str) -> str | None:
    """Why ``server`` cannot run in this environment, or None when it can."""
    if importlib.util.find_spec(server) is None:
        return f"{server} is not installed: pip install -e '.[bench]' (or make bench)"
    return None


@dataclass
class Server:
    """A process group listening on ``127.0.0.1:port``; ``stop`` ends the whole group."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/graphql"

    def stop(self) -> None:
        """SIGTERM to the group this run started, the server's workers included; SIGKILL
        to whatever of the group is left after ``STOP_TIMEOUT_S``."""
        _signal_group(self.process.pid, signal.SIGTERM)
        if not _group_ended(self.process, STOP_TIMEOUT_S):
            _signal_group(self.process.pid, signal.SIGKILL)
            _group_ended(self.process, STOP_TIMEOUT_S)
        self.process.wait()


def _group_ended(leader: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait until no process of ``leader``'s group is left (a worker can outlive the
    process that started it); False if some still are after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while leader.poll() is None or _group_alive(leader.pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the group has ended already
        os.killpg(group, signum)


def _group_alive(group: int) -> bool:
    """Whether a process of ``group`` still runs. A killed orphan stays a zombie until
    init reaps it, which can take seconds: on Linux, zombies do not count."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    if not PROC.is_dir():
        return True
    return any(s.group == group and s.state != "Z" for s in process_stats())


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def gateway_environment(
    database_url: str, key_dir: Path, disclosure: str, *, compiled_path: bool = True
) -> dict[str, str]:
    """The process environment without the caller's FIELDGATE_* variables, plus the bench's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDGATE_")}
    env.update(
        FIELDGATE_ENV="development",
        FIELDGATE_DATABASE_URL=database_url,
        FIELDGATE_KEY_DIR=str(key_dir),
        FIELDGATE_DISCLOSURE=disclosure,
        FIELDGATE_GRAPHIQL="false",
        # the load comes from one token per workload: per-token limits would measure 429s
        FIELDGATE_RATE_LIMIT_REQUESTS="0",
        FIELDGATE_RATE_LIMIT_COST="0",
        # as in-process: the partner workload measures denials, not a refused operation
        FIELDGATE_SCHEMA_PER_PRINCIPAL="false",
        FIELDGATE_COMPILED_PATH="true" if compiled_path else "false",
    )
    return env


def start(name: str, command: list[str], env: Mapping[str, str], log: Path, port: int) -> Server:
    """Start ``command`` in a new process group, output to ``log``; wait until it answers."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, env=dict(env), stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, port, process, log)
    _wait_ready(server)
    return server


def start_gateway(
    name: str,
    database_url: str,
    key_dir: Path,
    *,
    disclosure: str,
    setup: ServerSetup,
    log: Path,
    compiled_path: bool = True,
) -> Server:
    """The gateway served as ``setup`` says, no access log."""
    port = free_port()
    env = gateway_environment(database_url, key_dir, disclosure, compiled_path=compiled_path)
    return start(name, setup.command(port), env, log, port)


def _wait_ready(server: Server) -> None:
    # POST a trivial operation: the route answers only once a worker has started.
    deadline = time.monotonic() + READY_TIMEOUT_S
    request = urllib.request.Request(
        server.url,
        data=b'{"query": "{ __typename }"}',
        headers={"content-type": "application/json"},
    )
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchAborted(f"{server.name} exited at start; see {server.log}")
        try:
            with urllib.request.urlopen(request, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers, even if it refuses an anonymous operation
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise BenchAborted(f"{server.name} did not answer within {READY_TIMEOUT_S:.0f} s")
