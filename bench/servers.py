"""``python -m bench.servers``: which server setup serves the gateway fastest.

Every setup below serves the same build on one seeded SQLite database, disclosure on, and
autocannon drives each in turn with one workload (default ``support-100-orders``): a
warm-up round, then the setups in order and in reverse order, so that a drift in the
machine's load hits them alike. Each setup's two runs are added up and compared with
uvicorn (uvloop, httptools), 2 workers.

Options: ``--duration S`` (per setup, split over its two runs, default 10),
``--warmup S`` (per setup, default 2), ``--connections N`` (default 32),
``--workload NAME``, ``--json PATH`` (default ``bench/results/servers.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bench.arguments import count, seconds
from bench.checks import BenchAborted
from bench.database import DEMO_SIZES, prepare_database
from bench.overhttp.client import issue_token, post, request_body
from bench.overhttp.loadgen import (
    LoadResult,
    combine,
    install_node_packages,
    node_versions,
    run_load,
)
from bench.overhttp.run import check_answer, failed_operations, request_bodies
from bench.overhttp.servers import (
    SERVERS,
    Server,
    ServerSetup,
    gateway_environment,
    server_missing,
    start_gateway,
)
from bench.overhttp.workloads import (
    COURSE_QUERY,
    HTTP_WORKLOADS,
    SUPPORT,
    HttpWorkload,
    select_http_workloads,
)
from bench.report import load_average, loads_text

RESULTS = Path(__file__).resolve().parent / "results" / "servers.json"
BASELINE = ServerSetup("uvicorn", 2)
SETUPS: tuple[ServerSetup, ...] = (
    ServerSetup("uvicorn", 1),
    BASELINE,
    ServerSetup("uvicorn", 4),
    ServerSetup("uvicorn", 2, loop="asyncio", http="h11"),
    ServerSetup("granian", 1),
    ServerSetup("granian", 2),
    ServerSetup("granian", 4),
)
VERSIONED = ("uvicorn", "uvloop", "httptools", "h11", "granian")


@dataclass(frozen=True, slots=True)
class Comparison:
    """What one run measured: each setup's runs, in the order they ran, and the 1-minute
    load average after each measurement."""

    workload: str
    runs: dict[ServerSetup, list[LoadResult]]
    load_averages: list[float]

    @property
    def results(self) -> dict[ServerSetup, LoadResult]:
        """Each setup's runs as one."""
        return {setup: combine(runs) for setup, runs in self.runs.items()}


def measurement_order(setups: tuple[ServerSetup, ...]) -> list[ServerSetup]:
    """A, B, …, then …, B, A: each setup is measured once early and once late."""
    return [*setups, *reversed(setups)]


def parser() -> argparse.ArgumentParser:
    """The command line of ``python -m bench.servers``."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.servers",
        description="fieldgate under uvicorn and granian, several worker counts, one run.",
    )
    parser.add_argument(
        "--duration", type=count, default=10, help="seconds per setup, over its two runs"
    )
    parser.add_argument("--warmup", type=seconds, default=2, help="unmeasured seconds per setup")
    parser.add_argument("--connections", type=count, default=32, help="concurrent connections")
    parser.add_argument("--workload", choices=[w.name for w in HTTP_WORKLOADS], default=SUPPORT)
    parser.add_argument("--json", type=Path, default=RESULTS, metavar="PATH")
    return parser


def ratio_to_baseline(results: dict[ServerSetup, LoadResult]) -> dict[ServerSetup, float | None]:
    """Each setup's req/s over the baseline's; None when the baseline completed nothing."""
    baseline = results[BASELINE].requests_per_second
    return {
        setup: None if baseline == 0 else result.requests_per_second / baseline
        for setup, result in results.items()
    }


def compare(
    workload: HttpWorkload,
    setups: tuple[ServerSetup, ...],
    *,
    duration: int,
    warmup: int,
    connections: int,
    folder: Path,
) -> Comparison:
    """Seed a SQLite database in ``folder``, serve it with every setup, measure each."""
    database = asyncio.run(prepare_database(None, folder))
    key_dir = folder / "keys"
    env = gateway_environment(database.url, key_dir, "on")
    subjects = sorted(workload.subjects | {"support1"})
    _say(f"issuing tokens with the CLI for {', '.join(subjects)} …")
    tokens = {subject: issue_token(subject, env) for subject in subjects}
    half = max(1, duration // 2)
    servers: dict[ServerSetup, Server] = {}
    try:
        for setup in setups:
            _say(f"starting {setup.label} …")
            servers[setup] = start_gateway(
                setup.label,
                database.url,
                key_dir,
                disclosure="on",
                setup=setup,
                log=folder / f"gateway-{_slug(setup)}.log",
            )
        course = post(servers[setups[0]].url, request_body(COURSE_QUERY), tokens["support1"])
        course_id = str(course["data"]["courses"]["edges"][0]["node"]["id"])
        requests = request_bodies(workload, tokens, course_id)
        _check_all(workload, servers, requests)
        if warmup:
            for setup, server in servers.items():
                _say(f"{setup.label}: warm-up, {warmup} s …")
                run_load(server.url, requests, duration=warmup, connections=connections)
        halves: dict[ServerSetup, list[LoadResult]] = {setup: [] for setup in setups}
        load_averages: list[float] = []
        for setup in measurement_order(setups):
            server = servers[setup]
            _say(f"{workload.name}: {setup.label}, {half} s …")
            failed_before = failed_operations(server.log)
            result = run_load(server.url, requests, duration=half, connections=connections)
            failed = failed_operations(server.log) - failed_before
            halves[setup].append(replace(result, graphql_errors=failed))
            load_averages.extend(load_average()[:1])
        _check_all(workload, servers, requests)  # each still answers correctly after the load
    finally:
        for server in servers.values():
            server.stop()
    return Comparison(workload.name, halves, load_averages)


def _check_all(
    workload: HttpWorkload, servers: dict[ServerSetup, Server], requests: list[dict[str, Any]]
) -> None:
    for server in servers.values():
        for request in requests:
            token = request["headers"]["authorization"].removeprefix("Bearer ")
            check_answer(workload, "on", post(server.url, request["body"], token))


_COLUMNS = ("setup", "req/s", "each run", "p50 ms", "p99 ms", "errors", "vs baseline")
_WIDTHS = (38, 8, 13, 8, 8, 7, 11)


def _line(cells: tuple[str, ...]) -> str:
    first, *rest = zip(cells, _WIDTHS, strict=True)
    return "  ".join((first[0].ljust(first[1]), *(cell.rjust(width) for cell, width in rest)))


def _failures(result: LoadResult) -> int:
    return result.errors + result.timeouts + result.non2xx + result.graphql_errors


def render(header: str, comparison: Comparison, duration: int, connections: int) -> str:
    """The printed table: one line per setup, its req/s over the baseline's last."""
    ratios = ratio_to_baseline(comparison.results)
    half = max(1, duration // 2)
    lines = [
        header,
        f"workload {comparison.workload}, disclosure on, temporary SQLite "
        f"({DEMO_SIZES['users']} users / {DEMO_SIZES['orders']} orders); autocannon on "
        f"loopback, {connections} connections; each setup 2 × {half} s, in order then "
        "reversed (each run: req/s of the early and the late run; p50/p99: their mean); "
        f"baseline: {BASELINE.label}",
        _line(_COLUMNS),
        _line(tuple("-" * width for width in _WIDTHS)),
    ]
    for setup, result in comparison.results.items():
        ratio = ratios[setup]
        lines.append(
            _line(
                (
                    setup.label,
                    f"{result.requests_per_second:.1f}",
                    " / ".join(f"{run.requests_per_second:.1f}" for run in comparison.runs[setup]),
                    f"{result.p50_ms:.1f}",
                    f"{result.p99_ms:.1f}",
                    str(_failures(result)),
                    "n/a" if ratio is None else f"{ratio:.2f}×",
                )
            )
        )
    return "\n".join(lines)


def comparison_json(comparison: Comparison, duration: int, connections: int) -> dict[str, Any]:
    """The same figures, JSON-ready."""
    ratios = ratio_to_baseline(comparison.results)
    return {
        "workload": comparison.workload,
        "disclosure": "on",
        "database": "sqlite (temporary)",
        "load": {
            "generator": "autocannon",
            "connections": connections,
            "duration_s": duration,
            "order": "every setup, then every setup reversed: each run lasts duration_s / 2",
        },
        "baseline": BASELINE.label,
        "setups": [
            {
                "label": setup.label,
                **setup.as_json(),
                "result": result.as_json(),
                "runs": [run.as_json() for run in comparison.runs[setup]],
                "ratio_rps_to_baseline": _rounded(ratios[setup]),
            }
            for setup, result in comparison.results.items()
        ],
        "load_average_1min_per_run": comparison.load_averages,
    }


def main(argv: list[str] | None = None) -> int:
    """Measure every setup; print the table; write the JSON to ``--json``."""
    args = parser().parse_args(argv)
    for server in SERVERS:
        missing = server_missing(server)
        if missing is not None:
            print(missing, file=sys.stderr)
            return 1
    node = node_versions()
    if node is None:
        print("node or npm is not installed: the benchmark needs autocannon", file=sys.stderr)
        return 1
    problem = install_node_packages()
    if problem is not None:
        print(f"cannot install the load generator: {problem}", file=sys.stderr)
        return 1
    started = time.perf_counter()
    (workload,) = select_http_workloads([args.workload])
    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="fieldgate-bench-servers-") as name:
        folder = Path(name)
        try:
            comparison = compare(
                workload,
                SETUPS,
                duration=args.duration,
                warmup=args.warmup,
                connections=args.connections,
                folder=folder,
            )
        except BenchAborted as aborted:
            print(f"bench aborted: {aborted}", file=sys.stderr)
            for log in sorted(folder.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text()[-2000:]}", file=sys.stderr)
            return 1
    load_after = load_average()
    versions = _versions()
    during = comparison.load_averages
    header = (
        f"fieldgate server setups · {datetime.now(UTC).isoformat(timespec='seconds')} · "
        f"{os.cpu_count()} cores · Python {platform.python_version()} · "
        + " · ".join(f"{package} {number}" for package, number in versions.items())
        + f"\nload average (1, 5, 15 min) before {loads_text(load_before)}, after "
        f"{loads_text(load_after)}; 1 min after each run {min(during, default=0):.2f}–"
        f"{max(during, default=0):.2f}"
    )
    print(render(header, comparison, args.duration, args.connections))
    document = comparison_json(comparison, args.duration, args.connections)
    document.update(
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        machine={"cpu_count": os.cpu_count(), "platform": platform.platform()},
        python=platform.python_version(),
        node=node,
        versions=versions,
        load_average={"before": load_before, "after": load_after},
        seconds=round(time.perf_counter() - started, 1),
    )
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    print(f"took {time.perf_counter() - started:.0f} s; results in {args.json}")
    return 0


def _rounded(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio, 4)


def _slug(setup: ServerSetup) -> str:
    return f"{setup.server}-{setup.loop}-{setup.http_implementation}-{setup.workers}w"


def _versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for package in VERSIONED:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
