"""What the audit trail costs: the big support query with auditing on versus off.

Both sides run the full disclosure engine on one engine; only ``audit_enabled`` differs.
Rounds interleave the two (``bench.paired``); the audit writer drains in the background as
it does in the server.

    python -m bench.audit_cost [--iterations N] [--warmup N]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path
from typing import Any

from bench.arguments import count, seconds
from bench.database import prepare_database
from bench.gateway import build_gateways
from bench.paired import interleave, report
from bench.workloads import WORKLOADS
from fieldgate.resolvers.context import RequestContext, Services


async def measure(iterations: int, warmup: int) -> None:
    with tempfile.TemporaryDirectory(prefix="fieldgate-audit-bench-") as tmp:
        folder = Path(tmp)
        database = await prepare_database(None, folder)
        gateways = build_gateways(database.url, folder / "keys")
        audited, unaudited = gateways.on, gateways.off
        unaudited.disclosure_enabled = True
        unaudited.audit_enabled = False
        workload = next(w for w in WORKLOADS if w.name == "support-100-orders")
        principal = await gateways.principal(workload.subject)

        def side(services: Services) -> Any:
            async def run() -> Any:
                context = RequestContext(services, principal)
                return await services.schema.execute(workload.query, context_value=context)

            return run

        def check(name: str, result: Any) -> None:
            assert result.data is not None, result.errors

        times = await interleave(
            [("audit on", side(audited)), ("audit off", side(unaudited))],
            iterations=iterations,
            warmup=warmup,
            check=check,
        )
        written = 0
        if audited.audit is not None:
            await audited.audit.flush()
            written = audited.audit.written
        await gateways.close()
    note = f"(goal: at most 1.10x); audit events written: {written}"
    print(report("support-100-orders (CUSTOMER_SUPPORT)", times, note=note))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=count, default=150)
    parser.add_argument("--warmup", type=seconds, default=15)
    args = parser.parse_args()
    asyncio.run(measure(args.iterations, args.warmup))


if __name__ == "__main__":
    main()
