"""The goals held against the peers, each a ratio of two servers measured in one run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.overhttp.loadgen import LoadResult
from bench.overhttp.workloads import GRANTED, JIT_PEER, SHIELD_PEER, SMALL, SUPPORT

FIELDGATE = "on"  # the gateway as deployed: disclosure on


@dataclass(frozen=True, slots=True)
class Goal:
    """fieldgate's requests/s at least ``target`` times ``peer``'s on ``workload``."""

    workload: str
    peer: str
    target: float


THROUGHPUT_GOALS: tuple[Goal, ...] = (
    Goal(GRANTED, JIT_PEER, 1.0),
    Goal(SMALL, JIT_PEER, 1.0),
    Goal(SUPPORT, JIT_PEER, 1.0),
    Goal(SUPPORT, SHIELD_PEER, 3.0),
)
LATENCY_PEER = JIT_PEER
"""p99 no worse than this peer's, on every workload it serves."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One goal as measured: ``measured`` None when a side of it did not run."""

    goal: str
    target: str
    measured: str | None
    met: bool | None
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "goal": self.goal,
            "target": self.target,
            "measured": self.measured,
            "met": self.met,
            "note": self.note,
        }

    @property
    def line(self) -> str:
        verdict = {True: "met", False: "NOT MET", None: "not measured"}[self.met]
        shown = "—" if self.measured is None else self.measured
        line = f"  {self.goal:<44} target {self.target:<13} measured {shown:<15} {verdict}"
        return f"{line} ({self.note})" if self.note else line


def outcomes(results: dict[str, dict[str, LoadResult]]) -> list[Outcome]:
    """Every goal against ``results`` (workload → server → result) of one database."""
    found = [_throughput(goal, results.get(goal.workload, {})) for goal in THROUGHPUT_GOALS]
    for workload, servers in results.items():
        peer = servers.get(LATENCY_PEER)
        if peer is not None:
            found.append(_latency(workload, servers[FIELDGATE], peer))
    return found


def _throughput(goal: Goal, servers: dict[str, LoadResult]) -> Outcome:
    text = f"{goal.workload}: req/s vs {goal.peer}"
    target = f"≥ {goal.target:.2f}×"
    ours, theirs = servers.get(FIELDGATE), servers.get(goal.peer)
    if ours is None or theirs is None or theirs.requests_per_second == 0:
        return Outcome(text, target, None, None)
    ratio = ours.requests_per_second / theirs.requests_per_second
    return Outcome(text, target, f"{ratio:.2f}×", ratio >= goal.target, _cpu_note(ours, theirs))


def _cpu_note(ours: LoadResult, theirs: LoadResult) -> str:
    mine, peer = ours.cpu_ms_per_request, theirs.cpu_ms_per_request
    if mine is None or peer is None:
        return ""
    return f"server CPU per request {mine:.2f} vs {peer:.2f} ms"


def _latency(workload: str, ours: LoadResult, peer: LoadResult) -> Outcome:
    return Outcome(
        f"{workload}: p99 vs {LATENCY_PEER}",
        "≤ the peer's",
        f"{ours.p99_ms:.0f} / {peer.p99_ms:.0f} ms",
        ours.p99_ms <= peer.p99_ms,
    )
