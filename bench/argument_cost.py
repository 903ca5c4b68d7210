"""What deciding arguments costs: a filtered query with the argument check on versus off.

``support1`` under CUSTOMER_SUPPORT asks for 100 orders filtered by status (an argument it
may give: Order.status is FULL to it). Both sides run the full disclosure engine on one
engine; only ``arguments_checked`` differs. The check is made once per plan, so it is
measured twice: with plans cached (as served) and with the plan cache emptied before
every request (every request compiles its plan, the check included). CPU time of this
process, rounds interleaved (``bench.paired``).

    python -m bench.argument_cost [--iterations N] [--warmup N]
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
from bench.gateway import build_gateways
from bench.paired import interleave, report
from bench.workloads import SUPPORT_GRANTED_FIELDS
from fieldgate.resolvers.context import RequestContext, Services

QUERY = (
    'query Filtered @purpose(name: CUSTOMER_SUPPORT) { orders(first: 100, status: "paid") '
    f"{{ edges {{ node {{ {SUPPORT_GRANTED_FIELDS} }} }} }} }}"
)


async def measure(iterations: int, warmup: int) -> None:
    with tempfile.TemporaryDirectory(prefix="fieldgate-argument-bench-") as tmp:
        folder = Path(tmp)
        database = await prepare_database(None, folder)
        gateways = build_gateways(database.url, folder / "keys")
        checked, unchecked = gateways.on, gateways.off
        unchecked.disclosure_enabled = True
        unchecked.arguments_checked = False
        principal = await gateways.principal("support1")

        def side(services: Services, *, cold: bool) -> Any:
            async def run() -> Any:
                if cold:
                    services.plans.clear()
                context = RequestContext(services, principal)
                return await services.schema.execute(QUERY, context_value=context)

            return run

        def check(name: str, result: Any) -> None:
            assert result.data is not None and not result.errors, result.errors
            assert len(result.data["orders"]["edges"]) > 0

        for label, cold in (("plans cached", False), ("plan compiled per request", True)):
            times = await interleave(
                [
                    ("check on", side(checked, cold=cold)),
                    ("check off", side(unchecked, cold=cold)),
                ],
                iterations=iterations,
                warmup=warmup,
                check=check,
                clock=time.process_time,
            )
            note = "(goal: at most 1.02x)"
            print(report(f"support1 orders(status:) x100, {label}, CPU", times, note=note))
        await gateways.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=count, default=200)
    parser.add_argument("--warmup", type=seconds, default=20)
    args = parser.parse_args()
    asyncio.run(measure(args.iterations, args.warmup))


if __name__ == "__main__":
    main()
