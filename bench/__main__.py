"""``python -m bench``: measure what the disclosure engine costs, in-process.

Options: ``--iterations N`` (measured rounds, default 300), ``--warmup N`` (default 30),
``--json PATH`` (also write the results), ``--database-url URL`` (default: a new SQLite
file in a temporary folder, migrated and seeded), ``--workload NAME`` (repeatable).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.arguments import count
from bench.checks import BenchAborted
from bench.database import prepare_database
from bench.gateway import build_gateways
from bench.measure import WorkloadResult, run_workload
from bench.report import RunInfo, as_json, render
from bench.workloads import WORKLOADS, select_workloads


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="In-process benchmark of the disclosure engine: on versus off.",
    )
    parser.add_argument("--iterations", type=count, default=300, help="measured rounds")
    parser.add_argument("--warmup", type=int, default=30, help="unmeasured rounds first")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write results as JSON")
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="async SQLAlchemy URL, migrated and seeded if empty (default: a new SQLite file)",
    )
    parser.add_argument(
        "--general-path",
        action="store_true",
        help="turn the compiled path off: every operation through graphql-core's executor",
    )
    parser.add_argument(
        "--workload",
        action="append",
        choices=[w.name for w in WORKLOADS],
        help="run only this workload (repeatable; default: all)",
    )
    return parser


async def _run(args: argparse.Namespace, folder: Path) -> tuple[RunInfo, list[WorkloadResult]]:
    workloads = select_workloads(args.workload)
    database = await prepare_database(args.database_url, folder)
    info = RunInfo(
        iterations=args.iterations,
        warmup=max(0, args.warmup),
        database=database,
        compiled_path=not args.general_path,
    )
    gateways = build_gateways(database.url, folder / "keys", compiled_path=not args.general_path)
    results: list[WorkloadResult] = []
    try:
        for workload in workloads:
            print(f"running {workload.name} as {workload.subject} …", file=sys.stderr)
            results.append(
                await run_workload(
                    gateways, workload, iterations=info.iterations, warmup=info.warmup
                )
            )
    finally:
        await gateways.close()
    return info, results


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark, print the report; 1 when a response fails its sanity check."""
    args = _parser().parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fieldgate-bench-") as folder:
        try:
            info, results = asyncio.run(_run(args, Path(folder)))
        except BenchAborted as aborted:
            print(f"bench aborted: {aborted}", file=sys.stderr)
            return 1
    seconds = time.perf_counter() - started
    print(render(info, results, seconds))
    if args.json is not None:
        document = as_json(info, results, seconds)
        args.json.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
