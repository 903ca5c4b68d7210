"""autocannon, installed from the committed lock into ``bench/peers/node_modules``, and
the figures of one load run: autocannon's, plus the server's CPU time from ``/proc``."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.overhttp.cpu import group_cpu_seconds

PEERS_DIR = Path(__file__).resolve().parent.parent / "peers"
LOAD_SCRIPT = PEERS_DIR / "load.mjs"


def node_versions() -> dict[str, str] | None:
    """``{"node": …, "npm": …}``, or None when either is missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None
    return {
        "node": _output([node, "--version"]).lstrip("v"),
        "npm": _output([npm, "--version"]),
    }


def install_node_packages() -> str | None:
    """``npm ci`` in ``bench/peers`` unless its node_modules is current; None or why not."""
    npm = shutil.which("npm")
    if npm is None:
        return "npm is not installed"
    marker = PEERS_DIR / "node_modules" / ".package-lock.json"
    lock = PEERS_DIR / "package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return None
    done = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=PEERS_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,  # better-sqlite3 compiles when no prebuilt binary fits
    )
    if done.returncode != 0:
        return f"npm ci failed: {done.stderr.strip()[-300:]}"
    return None


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What autocannon measured against one server for one workload."""

    requests: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    timeouts: int
    non2xx: int
    graphql_errors: int = 0  # failed operations the server logged (answered with HTTP 200)
    cpu_seconds: float | None = None  # the server's processes, all of them; None: not measured

    @property
    def cpu_ms_per_request(self) -> float | None:
        """Server CPU time per completed request, in milliseconds."""
        if self.cpu_seconds is None or self.requests == 0:
            return None
        return 1000 * self.cpu_seconds / self.requests

    def as_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "requests_per_second": round(self.requests_per_second, 1),
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "non2xx": self.non2xx,
            "graphql_errors": self.graphql_errors,
            "cpu_seconds": None if self.cpu_seconds is None else round(self.cpu_seconds, 3),
            "cpu_ms_per_request": _rounded(self.cpu_ms_per_request),
        }


def run_load(
    url: str,
    requests: list[dict[str, Any]],
    *,
    duration: int,
    connections: int,
    cpu_group: int | None = None,
) -> LoadResult:
    """Drive ``url`` for ``duration`` seconds over ``connections`` connections.

    ``requests``: ``{"body", "headers", "every"}`` each; the first is sent unless another's
    ``every`` divides the request count (see ``load.mjs``). ``cpu_group``: the server's
    process group, whose CPU time over the run is recorded.
    """
    before = None if cpu_group is None else group_cpu_seconds(cpu_group)
    spec = {"url": url, "duration": duration, "connections": connections, "requests": requests}
    done = subprocess.run(
        ["node", str(LOAD_SCRIPT), json.dumps(spec, ensure_ascii=False)],
        cwd=PEERS_DIR,
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    )
    after = None if cpu_group is None else group_cpu_seconds(cpu_group)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    cpu = None if before is None or after is None else after - before
    return LoadResult(**figures, cpu_seconds=cpu)


def combine(parts: list[LoadResult]) -> LoadResult:
    """Runs of one mode as one: requests and seconds add up; percentiles are the mean of
    the runs' percentiles (autocannon reports no histogram to merge)."""
    seconds = sum(p.seconds for p in parts)
    requests = sum(p.requests for p in parts)
    return LoadResult(
        requests=requests,
        seconds=seconds,
        requests_per_second=requests / seconds,
        p50_ms=statistics.fmean(p.p50_ms for p in parts),
        p90_ms=statistics.fmean(p.p90_ms for p in parts),
        p99_ms=statistics.fmean(p.p99_ms for p in parts),
        max_ms=max(p.max_ms for p in parts),
        errors=sum(p.errors for p in parts),
        timeouts=sum(p.timeouts for p in parts),
        non2xx=sum(p.non2xx for p in parts),
        graphql_errors=sum(p.graphql_errors for p in parts),
        cpu_seconds=_total(p.cpu_seconds for p in parts),
    )


def _total(values: Iterable[float | None]) -> float | None:
    """The sum, or None when any part was not measured."""
    measured = list(values)
    if any(v is None for v in measured):
        return None
    return sum(v for v in measured if v is not None)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _output(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
