"""Two sides of one switch, measured in one run: rounds interleave them (alternating which
goes first) so that machine noise hits both, and the report gives the mean, median and
paired ratios. Used by ``audit_cost``, ``consent_cost``, ``compiled_cost`` and
``argument_cost``."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

Side = tuple[str, Callable[[], Awaitable[Any]]]


async def interleave(
    sides: Sequence[Side],
    *,
    iterations: int,
    warmup: int,
    check: Callable[[str, Any], None] | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """Run every side once per round; the seconds each took after ``warmup`` rounds.
    ``check(name, result)`` sees every result (a wrong answer is not worth timing)."""
    times: dict[str, list[float]] = {name: [] for name, _ in sides}
    for round_ in range(warmup + iterations):
        order = sides if round_ % 2 == 0 else sides[::-1]
        for name, run in order:
            started = clock()
            result = await run()
            elapsed = clock() - started
            if check is not None:
                check(name, result)
            if round_ >= warmup:
                times[name].append(elapsed)
    return times


def report(title: str, times: dict[str, list[float]], *, note: str = "") -> str:
    """The printed lines: each side's mean, p50 and rate, then the first over the second."""
    names = list(times)
    width = max(len(name) for name in names)
    lines = [f"cores {os.cpu_count()}, {len(times[names[0]])} rounds, {title}"]
    for name, series in times.items():
        mean, median = statistics.mean(series), statistics.median(series)
        lines.append(
            f"  {name:{width}}  mean {mean * 1000:7.2f} ms"
            f"  p50 {median * 1000:7.2f} ms  {1 / mean:6.1f}/s"
        )
    first, second = times[names[0]], times[names[1]]
    paired = statistics.median(a / b for a, b in zip(first, second, strict=True))
    lines.append(
        f"  ratio {names[0]} / {names[1]}: mean "
        f"{statistics.mean(first) / statistics.mean(second):.2f}x, medians "
        f"{statistics.median(first) / statistics.median(second):.2f}x, paired {paired:.2f}x"
        + (f"  {note}" if note else "")
    )
    return "\n".join(lines)
