"""What asking the data subjects costs: the MARKETING query over 100 users with the per-row
checks (consent, guardians, Do-Not-Track, children) versus the same query without them.

Both sides run on one gateway (same plan cache and engine); the "off" side has
``subjects_asked`` switched off (a switch only benchmarks reach), so no facts are loaded
and no row is gated. Rounds interleave the two (``bench.paired``).

    python -m bench.consent_cost [--iterations N] [--warmup N]
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
from fieldgate.resolvers.context import RequestContext

QUERY = (
    "query Marketing @purpose(name: MARKETING) "
    "{ users(first: 100) { edges { node { id phone email } } } }"
)
SUBJECT = "marketing1"


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

        def side(asked: bool) -> Any:
            async def run() -> Any:
                services.subjects_asked = asked
                context = RequestContext(services, principal)
                return await services.schema.execute(QUERY, context_value=context)

            return run

        withheld_by: dict[str, int] = {}

        def check(name: str, result: Any) -> None:
            assert result.data is not None, result.errors
            assert len(result.data["users"]["edges"]) == 100
            withheld_by[name] = withheld(result)

        times = await interleave(
            [("consent on", side(True)), ("consent off", side(False))],
            iterations=iterations,
            warmup=warmup,
            check=check,
        )
        await gateways.close()
    assert withheld_by["consent on"] > 0, "some of the 100 users did not opt in"
    assert withheld_by["consent off"] == 0
    title = (
        f"{SUBJECT}: 100 users (MARKETING); {withheld_by['consent on']} values withheld"
        " with consent checks, none without"
    )
    print(report(title, times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=count, default=60)
    parser.add_argument("--warmup", type=seconds, default=10)
    args = parser.parse_args()
    asyncio.run(measure(args.iterations, args.warmup))


if __name__ == "__main__":
    main()
