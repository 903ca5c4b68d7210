"""``python -m bench.overhttp``: the gateway over HTTP, disclosure on and off, and the peers.

Options: ``--duration S`` (per workload and server, default 10), ``--connections N``
(default 32), ``--server uvicorn|granian`` (default uvicorn; granian comes with the
``bench`` extra), ``--workers N`` (server processes, default one per core),
``--workload NAME`` (repeatable), ``--json PATH`` (default ``bench/results/latest.json``;
the in-process figures already there are kept). ``FIELDGATE_BENCH_POSTGRES_URL`` adds a
PostgreSQL run.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.arguments import count
from bench.checks import BenchAborted
from bench.database import PreparedDatabase, prepare_database
from bench.overhttp.loadgen import install_node_packages, node_versions
from bench.overhttp.report import http_json, render_http
from bench.overhttp.run import DatabaseRun, LoadSettings, run_database
from bench.overhttp.servers import SERVERS, server_missing
from bench.overhttp.workloads import HTTP_WORKLOADS, select_http_workloads
from bench.report import load_average, loads_text

RESULTS = Path(__file__).resolve().parent.parent / "results" / "latest.json"
POSTGRES_VARIABLE = "FIELDGATE_BENCH_POSTGRES_URL"
POSTGRES_KEYS = Path("var/bench-postgres/keys")  # git-ignored, next to `make serve`'s keys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.overhttp", description="fieldgate over HTTP: on, off and the peers."
    )
    parser.add_argument("--duration", type=count, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=count, default=32, help="concurrent connections")
    parser.add_argument(
        "--server", choices=SERVERS, default="uvicorn", help="the server running the gateways"
    )
    parser.add_argument(
        "--workers", type=count, default=os.cpu_count() or 1, help="server worker processes"
    )
    parser.add_argument(
        "--workload", action="append", choices=[w.name for w in HTTP_WORKLOADS], help="repeatable"
    )
    parser.add_argument("--json", type=Path, default=RESULTS, metavar="PATH")
    parser.add_argument(
        "--general-path",
        action="store_true",
        help="turn the compiled path off: every operation through graphql-core's executor",
    )
    return parser


async def _databases(folder: Path) -> list[tuple[PreparedDatabase, Path]]:
    """Each database with the folder of the keys its sealed columns were written with."""
    databases = [(await prepare_database(None, folder), folder / "keys")]
    postgres = os.environ.get(POSTGRES_VARIABLE)
    if postgres:
        # seeded once and kept: its data keys must outlive this run's temporary folder
        kept = POSTGRES_KEYS.parent
        kept.mkdir(parents=True, exist_ok=True)
        databases.append((await prepare_database(postgres, kept), POSTGRES_KEYS))
    return databases


def _header(node: dict[str, str] | None) -> str:
    versions = f"Node {node['node']}" if node else "Node not installed"
    return (
        f"fieldgate over HTTP · {datetime.now(UTC).isoformat(timespec='seconds')} · "
        f"{os.cpu_count()} cores · Python {platform.python_version()} · {versions} · "
        f"{platform.platform()}"
    )


def main(argv: list[str] | None = None) -> int:
    """Run every workload over HTTP; print the table; merge the JSON into ``--json``."""
    args = _parser().parse_args(argv)
    workloads = select_http_workloads(args.workload)
    load = LoadSettings(
        args.duration,
        args.connections,
        args.workers,
        compiled_path=not args.general_path,
        server=args.server,
    )
    missing = server_missing(args.server)
    if missing is not None:
        print(missing, file=sys.stderr)
        return 1
    started = time.perf_counter()
    node = node_versions()
    if node is None:
        print("node or npm is not installed: the HTTP benchmark needs autocannon", file=sys.stderr)
        return 1
    problem = install_node_packages()
    if problem is not None:
        print(f"cannot install the load generator and the peers: {problem}", file=sys.stderr)
        return 1
    load_before = load_average()
    runs: list[DatabaseRun] = []
    with tempfile.TemporaryDirectory(prefix="fieldgate-bench-http-") as name:
        folder = Path(name)
        try:
            for database, key_dir in asyncio.run(_databases(folder)):
                runs.append(run_database(database, key_dir, workloads, load, folder, None))
        except BenchAborted as aborted:
            print(f"bench aborted: {aborted}", file=sys.stderr)
            for log in sorted(folder.glob("*.log")):
                print(f"--- {log.name}\n{log.read_text()[-2000:]}", file=sys.stderr)
            return 1
    load_after = load_average()
    header = (
        f"{_header(node)}\nload average (1, 5, 15 min) before {loads_text(load_before)}, "
        f"after {loads_text(load_after)}"
    )
    print(render_http(header, load, runs))
    document = http_json(load, runs)
    document.update(
        date=datetime.now(UTC).isoformat(timespec="seconds"),
        machine={"cpu_count": os.cpu_count(), "platform": platform.platform()},
        python=platform.python_version(),
        node=node,
        load_average={"before": load_before, "after": load_after},
        seconds=round(time.perf_counter() - started, 1),
    )
    _merge(args.json, {"http": document})
    print(f"took {time.perf_counter() - started:.0f} s; results in {args.json}")
    return 0


def _merge(path: Path, part: dict[str, Any]) -> None:
    """Write ``part`` into the JSON object at ``path``, keeping its other keys."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing: dict[str, Any] = {}
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except ValueError:
            existing = {}
    existing.update(part)
    path.write_text(json.dumps(existing, ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
