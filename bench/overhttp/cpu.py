"""Server CPU time from ``/proc``: user + system time of every process of a process group.

Each server runs in a process group of its own (a session, see ``servers.start``): the
gateway's supervisor and workers, or the peer's cluster primary and workers. Their CPU
time per request is steadier than requests/s on a machine other work shares.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True, slots=True)
class ProcessStat:
    """The fields of ``/proc/PID/stat`` the benchmark reads."""

    pid: int
    state: str
    group: int
    cpu_ticks: int  # utime + stime, in clock ticks


def parse_stat(pid: int, text: str) -> ProcessStat:
    """One ``/proc/PID/stat`` line; the command (in parentheses) may hold spaces."""
    # after the command's closing parenthesis: field 3 (state) onwards
    fields = text.rsplit(")", 1)[1].split()
    state, group, utime, stime = fields[0], int(fields[2]), int(fields[11]), int(fields[12])
    return ProcessStat(pid, state, group, utime + stime)


def process_stats() -> Iterator[ProcessStat]:
    """Every process's stat; processes that end while they are read are left out."""
    for path in PROC.glob("[0-9]*/stat"):
        try:
            yield parse_stat(int(path.parent.name), path.read_text())
        except (OSError, IndexError, ValueError):
            continue


def group_cpu_seconds(group: int) -> float | None:
    """CPU seconds the live processes of ``group`` have used; None without ``/proc``."""
    if not PROC.is_dir():
        return None
    ticks = sum(s.cpu_ticks for s in process_stats() if s.group == group)
    return ticks / CLOCK_TICKS
