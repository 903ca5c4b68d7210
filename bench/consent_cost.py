"""What asking the data subjects costs: the MARKETING query over 100 users with the per-row
checks (consent, guardians, Do-Not-Track, children) versus the same query without them.

Both sides run on one gateway (same services, plan cache and engine); only the request's
context differs: the "off" side tells its disclosure to ask no data subject anything, so no
facts are loaded and no row is gated (a switch only this benchmark can reach). Rounds
interleave the two (alternating which goes first) so machine noise hits both.

    python -m bench.consent_cost [--iterations N] [--warmup N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.database import prepare_database
from bench.gateway import build_gateways
from fieldgate.authz.disclosure import DisclosureContext
from fieldgate.resolvers.context import RequestContext

QUERY = (
    "query Marketing @purpose(name: MARKETING) "
    "{ users(first: 100) { edges { node { id phone email } } } }"
)
SUBJECT = "marketing1"


class UnaskedContext(RequestContext):
    """A request whose disclosure asks no data subject anything (measurement only)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "disclosure" and isinstance(value, DisclosureContext):
            value.ignore_subjects()
        super().__setattr__(name, value)


def withheld(result: Any) -> int:
    """How many values the data subjects' say withheld (from the denial errors' counts)."""
    reasons = {"CONSENT_REQUIRED", "GUARDIAN_CONSENT_REQUIRED"}
    found = [error.extensions or {} for error in result.errors or ()]
    return sum(int(e.get("count", 0)) for e in found if e.get("reason") in reasons)


async def measure(iterations: int, warmup: int) -> None:
    with tempfile.TemporaryDirectory(prefix="fieldgate-consent-bench-") as tmp:
        folder = Path(tmp)
        database = await prepare_database(None, folder)
        gateways = build_gateways(database.url, folder / "keys")
        services = gateways.on
        principal = await gateways.principal(SUBJECT)
        times: dict[str, list[float]] = {"consent on": [], "consent off": []}
        sides = (("consent on", RequestContext), ("consent off", UnaskedContext))
        withheld_by: dict[str, int] = {}
        for round_ in range(warmup + iterations):
            order = sides if round_ % 2 == 0 else sides[::-1]
            for name, context in order:
                started = time.perf_counter()
                result = await services.schema.execute(
                    QUERY, context_value=context(services, principal)
                )
                elapsed = time.perf_counter() - started
                assert result.data is not None, result.errors
                assert len(result.data["users"]["edges"]) == 100
                withheld_by[name] = withheld(result)
                if round_ >= warmup:
                    times[name].append(elapsed)
        await gateways.close()
    assert withheld_by["consent on"] > 0, "some of the 100 users did not opt in"
    assert withheld_by["consent off"] == 0
    on, off = times["consent on"], times["consent off"]
    paired = statistics.median(a / b for a, b in zip(on, off, strict=True))
    print(
        f"cores {os.cpu_count()}, {iterations} rounds, {SUBJECT}: 100 users (MARKETING);"
        f" {withheld_by['consent on']} values withheld with consent checks, none without"
    )
    for name, series in times.items():
        mean, median = statistics.mean(series), statistics.median(series)
        print(
            f"  {name:11}  mean {mean * 1000:7.2f} ms"
            f"  p50 {median * 1000:7.2f} ms  {1 / mean:6.1f}/s"
        )
    print(
        f"  ratio on/off: mean {statistics.mean(on) / statistics.mean(off):.2f}x,"
        f" medians {statistics.median(on) / statistics.median(off):.2f}x, paired {paired:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(measure(args.iterations, args.warmup))


if __name__ == "__main__":
    main()
