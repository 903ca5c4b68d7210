"""What a run prints and writes: the machine, the table, the goal, the plan cache."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

from bench.database import DEMO_SIZES, PreparedDatabase
from bench.measure import PlanCounts, Timing, WorkloadResult

GOAL_RATIO = 1.15
GOAL = (
    f"DESIGN.md goal: the disclosure engine costs at most {GOAL_RATIO:.2f}× the baseline "
    "(cost ratio = mean on / mean off)"
)
# A mean ratio this far from the paired one means outliers, not the engine, decided it.
NOISE_GAP = 0.05
PACKAGES = ("strawberry-graphql", "graphql-core", "sqlalchemy", "aiosqlite", "asyncpg")


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Where and how the numbers were taken."""

    iterations: int
    warmup: int
    database: PreparedDatabase
    date: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    cpu_count: int | None = field(default_factory=os.cpu_count)
    python: str = field(
        default_factory=lambda: f"{platform.python_version()} ({sys.implementation.name})"
    )
    platform: str = field(default_factory=platform.platform)
    load_before: tuple[float, ...] = field(default_factory=lambda: tuple(load_average()))
    compiled_path: bool = True

    def packages(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name in PACKAGES:
            try:
                found[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                continue
        return found

    def header(self, load_after: Sequence[float]) -> str:
        database = self.database
        where = (
            f"temporary SQLite, {DEMO_SIZES['users']} users / {DEMO_SIZES['orders']} orders"
            if database.temporary
            else f"{database.backend} at {database.display_url}"
        )
        return "\n".join(
            (
                "fieldgate disclosure benchmark: in-process schema.execute, one request at a time",
                f"date {self.date} · Python {self.python} · {self.cpu_count} cores · "
                f"{self.platform}",
                f"database {where}; {database.seeding}",
                f"{self.iterations} measured rounds after {self.warmup} warm-up rounds; "
                "a round runs 'on' and 'off' once each, alternating which goes first; "
                + (
                    "cached queries on the compiled path"
                    if self.compiled_path
                    else "every operation through graphql-core's executor"
                ),
                f"load average (1, 5, 15 min) before {loads_text(self.load_before)}, "
                f"after {loads_text(load_after)}",
            )
        )


_COLUMNS = ("workload", "rows", "mode", "req/s", "mean ms", "p50 ms", "p99 ms", "ratio")
_WIDTHS = (20, 5, 4, 9, 9, 9, 9, 7)


def _line(cells: tuple[str, ...]) -> str:
    first, *rest = zip(cells, _WIDTHS, strict=True)
    return "  ".join((first[0].ljust(first[1]), *(cell.rjust(width) for cell, width in rest)))


def _timing_cells(timing: Timing) -> tuple[str, ...]:
    return (
        f"{timing.requests_per_second:.1f}",
        f"{timing.mean_ms:.3f}",
        f"{timing.percentile_ms(0.50):.3f}",
        f"{timing.percentile_ms(0.99):.3f}",
    )


def load_average() -> list[float]:
    """The machine's load average (1, 5, 15 min), rounded; empty where unavailable."""
    try:
        return [round(load, 2) for load in os.getloadavg()]
    except OSError:  # not available on every platform
        return []


def loads_text(loads: Sequence[float]) -> str:
    return " ".join(f"{load:.2f}" for load in loads) or "unknown"


def render(info: RunInfo, results: list[WorkloadResult], seconds: float) -> str:
    """The whole printed report."""
    lines = [
        info.header(load_average()),
        "",
        _line(_COLUMNS),
        _line(tuple("-" * w for w in _WIDTHS)),
    ]
    for result in results:
        name = result.workload.name
        lines.append(
            _line(
                (
                    name,
                    str(result.rows),
                    "on",
                    *_timing_cells(result.on),
                    f"{result.cost_ratio:.2f}×",
                )
            )
        )
        lines.append(_line(("", "", "off", *_timing_cells(result.off), "1.00×")))
    lines += ["", GOAL]
    for result in results:
        verdict = "within the goal" if result.cost_ratio <= GOAL_RATIO else "OVER the goal"
        lines.append(
            f"  {result.workload.name:<20}  {result.cost_ratio:.2f}×  {verdict}"
            f"   (medians {result.median_ratio:.2f}×, paired per round "
            f"{result.paired_ratio:.2f}×)"
        )
    if any(abs(r.cost_ratio - r.paired_ratio) > NOISE_GAP for r in results):
        lines.append(
            "  note: a mean ratio is far from its paired ratio: a few slow outliers moved "
            "the means (machine noise); rerun on a quiet machine or with more --iterations"
        )
    lines += ["", "plan cache lookups (hits / misses, warm-up included): plans compiled once"]
    for result in results:
        lines.append(
            f"  {result.workload.name:<20}  on {_plans(result.plans_on)}"
            f"   off {_plans(result.plans_off)}"
        )
    lines += ["", f"took {seconds:.1f} s"]
    return "\n".join(lines)


def _plans(counts: PlanCounts) -> str:
    return f"{counts.hits} / {counts.misses}"


def as_json(info: RunInfo, results: list[WorkloadResult], seconds: float) -> dict[str, Any]:
    """The same report as a JSON-ready dictionary."""
    database = info.database
    return {
        "date": info.date,
        "machine": {"cpu_count": info.cpu_count, "platform": info.platform},
        "python": info.python,
        "packages": info.packages(),
        "database": {
            "backend": database.backend,
            "url": database.display_url,
            "temporary": database.temporary,
            "demo_sizes": DEMO_SIZES if database.temporary else None,
            "seeding": database.seeding,
        },
        "load_average": {
            "before": [round(load, 2) for load in info.load_before],
            "after": load_average(),
        },
        "iterations": info.iterations,
        "warmup": info.warmup,
        "goal": {"max_cost_ratio": GOAL_RATIO, "cost_ratio": "mean_on / mean_off"},
        "workloads": [_workload_json(result) for result in results],
        "seconds": round(seconds, 3),
    }


def _workload_json(result: WorkloadResult) -> dict[str, Any]:
    workload = result.workload
    return {
        "name": workload.name,
        "subject": workload.subject,
        "purpose": workload.purpose,
        "query": workload.query,
        "rows": result.rows,
        "cost_ratio": round(result.cost_ratio, 4),
        "median_ratio": round(result.median_ratio, 4),
        "paired_ratio": round(result.paired_ratio, 4),
        "within_goal": result.cost_ratio <= GOAL_RATIO,
        "on": _timing_json(result.on),
        "off": _timing_json(result.off),
        "plan_cache": {
            "on": {"hits": result.plans_on.hits, "misses": result.plans_on.misses},
            "off": {"hits": result.plans_off.hits, "misses": result.plans_off.misses},
        },
    }


def _timing_json(timing: Timing) -> dict[str, float | int]:
    return {
        "samples": len(timing.samples_ns),
        "requests_per_second": round(timing.requests_per_second, 2),
        "mean_ms": round(timing.mean_ms, 4),
        "stdev_ms": round(timing.stdev_ms, 4),
        "p50_ms": round(timing.percentile_ms(0.50), 4),
        "p99_ms": round(timing.percentile_ms(0.99), 4),
        "min_ms": round(min(timing.samples_ns) / 1e6, 4),
        "max_ms": round(max(timing.samples_ns) / 1e6, 4),
    }
