"""Server processes of a run: the gateway under uvicorn, and the peer under Node."""

from __future__ import annotations

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

READY_TIMEOUT_S = 60.0


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
        """SIGTERM to the group this run started (uvicorn's workers included), then SIGKILL."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


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
    workers: int,
    log: Path,
    compiled_path: bool = True,
) -> Server:
    """uvicorn with uvloop and httptools, ``workers`` processes, no access log."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "fieldgate.app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools", "--no-access-log",
        "--no-server-header", "--log-level", "warning",
    ]  # fmt: skip
    env = gateway_environment(database_url, key_dir, disclosure, compiled_path=compiled_path)
    return start(name, command, env, log, port)


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
