"""Timing one workload: "on" and "off" interleaved in rounds, every response checked."""

from __future__ import annotations

import gc
import math
import statistics
import time
from dataclasses import dataclass

from strawberry.types import ExecutionResult

from bench.checks import check_round
from bench.gateway import Gateways
from bench.workloads import Workload
from fieldgate.authz.principal import Principal
from fieldgate.resolvers.context import RequestContext, Services


@dataclass(frozen=True, slots=True)
class Timing:
    """The measured durations of one mode, in nanoseconds, in the order they ran."""

    samples_ns: tuple[int, ...]

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.samples_ns) / 1e6

    @property
    def stdev_ms(self) -> float:
        return statistics.stdev(self.samples_ns) / 1e6 if len(self.samples_ns) > 1 else 0.0

    @property
    def requests_per_second(self) -> float:
        """One request after another on one event loop: ``n / total time``."""
        return len(self.samples_ns) * 1e9 / sum(self.samples_ns)

    def percentile_ms(self, share: float) -> float:
        """Nearest-rank percentile: the smallest sample with ``share`` of samples at or below it."""
        ordered = sorted(self.samples_ns)
        rank = max(1, math.ceil(share * len(ordered)))
        return ordered[rank - 1] / 1e6


@dataclass(frozen=True, slots=True)
class PlanCounts:
    """Plan cache lookups during one workload (warm-up included)."""

    hits: int
    misses: int


@dataclass(frozen=True, slots=True)
class WorkloadResult:
    workload: Workload
    rows: int
    on: Timing
    off: Timing
    plans_on: PlanCounts
    plans_off: PlanCounts

    @property
    def cost_ratio(self) -> float:
        """``mean_on / mean_off``: what the disclosure engine costs relative to none."""
        return self.on.mean_ms / self.off.mean_ms

    @property
    def median_ratio(self) -> float:
        """``p50_on / p50_off``: less moved by a few slow outliers than the means."""
        return self.on.percentile_ms(0.5) / self.off.percentile_ms(0.5)

    @property
    def paired_ratio(self) -> float:
        """The median over rounds of ``on / off``: both ran back to back, under the same
        load, so this is the estimate least moved by noise from other processes."""
        pairs = zip(self.on.samples_ns, self.off.samples_ns, strict=True)
        return statistics.median(on / off for on, off in pairs)


async def _timed(
    services: Services, query: str, principal: Principal
) -> tuple[int, ExecutionResult]:
    started = time.perf_counter_ns()
    result = await services.schema.execute(query, context_value=RequestContext(services, principal))
    return time.perf_counter_ns() - started, result


async def run_workload(
    gateways: Gateways, workload: Workload, *, iterations: int, warmup: int
) -> WorkloadResult:
    """Run ``warmup`` unmeasured rounds, then ``iterations`` measured ones.

    A round runs "on" and "off" once each; the order alternates from round to round so
    that neither mode always runs right after the other.
    """
    principal = await gateways.principal(workload.subject)
    gc.collect()  # the previous workload's garbage is not this one's to collect
    before = {
        mode: (services.plans.hits, services.plans.misses)
        for mode, services in (("on", gateways.on), ("off", gateways.off))
    }
    samples: dict[str, list[int]] = {"on": [], "off": []}
    rows = 0
    for round_number in range(warmup + iterations):
        order = ("on", "off") if round_number % 2 == 0 else ("off", "on")
        results: dict[str, ExecutionResult] = {}
        for mode in order:
            services = gateways.on if mode == "on" else gateways.off
            elapsed, results[mode] = await _timed(services, workload.query, principal)
            if round_number >= warmup:
                samples[mode].append(elapsed)
        rows = check_round(workload, results["on"], results["off"])

    def counts(mode: str, services: Services) -> PlanCounts:
        hits, misses = before[mode]
        return PlanCounts(services.plans.hits - hits, services.plans.misses - misses)

    return WorkloadResult(
        workload=workload,
        rows=rows,
        on=Timing(tuple(samples["on"])),
        off=Timing(tuple(samples["off"])),
        plans_on=counts("on", gateways.on),
        plans_off=counts("off", gateways.off),
    )
