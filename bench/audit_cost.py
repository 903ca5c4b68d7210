"""What the audit trail costs: the big support query with auditing on versus off.

Both sides run the full disclosure engine on one engine; only ``audit_enabled`` differs.
Rounds interleave the two (alternating which goes first) so machine noise hits both;
the audit writer drains in the background as it does in the server.

    python -m bench.audit_cost [--iterations N] [--warmup N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.database import prepare_database
from bench.gateway import build_gateways
from bench.workloads import WORKLOADS
from fieldgate.resolvers.context import RequestContext


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
        times: dict[str, list[float]] = {"audit on": [], "audit off": []}
        sides = (("audit on", audited), ("audit off", unaudited))
        for round_ in range(warmup + iterations):
            order = sides if round_ % 2 == 0 else sides[::-1]
            for name, services in order:
                started = time.perf_counter()
                result = await services.schema.execute(
                    workload.query, context_value=RequestContext(services, principal)
                )
                elapsed = time.perf_counter() - started
                assert result.data is not None, result.errors
                if round_ >= warmup:
                    times[name].append(elapsed)
        if audited.audit is not None:
            await audited.audit.flush()
            written = audited.audit.written
        else:
            written = 0
        await gateways.close()
    on, off = times["audit on"], times["audit off"]
    paired = statistics.median(a / b for a, b in zip(on, off, strict=True))
    print(f"cores {os.cpu_count()}, {iterations} rounds, support-100-orders (CUSTOMER_SUPPORT)")
    for name, series in times.items():
        mean, median = statistics.mean(series), statistics.median(series)
        print(
            f"  {name:9}  mean {mean * 1000:7.2f} ms"
            f"  p50 {median * 1000:7.2f} ms  {1 / mean:6.1f}/s"
        )
    print(
        f"  ratio on/off: mean {statistics.mean(on) / statistics.mean(off):.2f}x,"
        f" medians {statistics.median(on) / statistics.median(off):.2f}x, paired {paired:.2f}x"
        f"  (goal: at most 1.10x); audit events written: {written}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(measure(args.iterations, args.warmup))


if __name__ == "__main__":
    main()
