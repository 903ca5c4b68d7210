"""What the compiled path saves: each 100-row workload answered on the compiled path
versus graphql-core's executor, on one gateway, in one run. CPU time of this process is
measured (the database runs in it too for SQLite), so other processes disturb it less.

    python -m bench.compiled_cost [--iterations N] [--warmup N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.arguments import count, seconds
from bench.database import prepare_database
from bench.gateway import Gateways, build_gateways
from bench.paired import interleave, report
from bench.workloads import WORKLOADS, Workload
from fieldgate.resolvers.context import RequestContext


async def compare(
    gateways: Gateways, workload: Workload, iterations: int, warmup: int
) -> dict[str, list[float]]:
    """CPU time of ``workload`` on each path, interleaved; both must answer alike."""
    services = gateways.on
    principal = await gateways.principal(workload.subject)
    before = services.plans.compiled.runs

    def side(compiled: bool) -> Any:
        async def run() -> Any:
            services.compiled_path = compiled
            context = RequestContext(services, principal)
            return await services.schema.execute(workload.query, context_value=context)

        return run

    answers: dict[str, Any] = {}

    def check(name: str, result: Any) -> None:
        assert result.data is not None, result.errors
        answers[name] = result.data

    times = await interleave(
        [("compiled", side(True)), ("executor", side(False))],
        iterations=iterations,
        warmup=warmup,
        check=check,
        clock=time.process_time,
    )
    assert answers["compiled"] == answers["executor"], "the two paths answer differently"
    assert services.plans.compiled.runs - before >= iterations, "the compiled path did not answer"
    return times


async def measure(iterations: int, warmup: int) -> None:
    with tempfile.TemporaryDirectory(prefix="fieldgate-compiled-bench-") as tmp:
        folder = Path(tmp)
        database = await prepare_database(None, folder)
        gateways = build_gateways(database.url, folder / "keys")
        try:
            for workload in WORKLOADS:
                times = await compare(gateways, workload, iterations, warmup)
                print(report(f"{workload.name} ({workload.subject}), CPU time", times))
        finally:
            await gateways.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=count, default=60)
    parser.add_argument("--warmup", type=seconds, default=10)
    args = parser.parse_args()
    asyncio.run(measure(args.iterations, args.warmup))


if __name__ == "__main__":
    main()
