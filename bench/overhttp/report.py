"""The HTTP table, and the same figures as JSON."""

from __future__ import annotations

from typing import Any

from bench.database import DEMO_SIZES
from bench.overhttp.loadgen import LoadResult
from bench.overhttp.run import DatabaseRun, LoadSettings
from bench.overhttp.workloads import SUPPORT

_COLUMNS = ("workload", "server", "req/s", "p50 ms", "p99 ms", "errors", "on/off req/s")
_WIDTHS = (20, 16, 9, 8, 8, 7, 13)


def _line(cells: tuple[str, ...]) -> str:
    first, *rest = zip(cells, _WIDTHS, strict=True)
    return "  ".join((first[0].ljust(first[1]), *(cell.rjust(width) for cell, width in rest)))


def _cells(result: LoadResult) -> tuple[str, str, str, str]:
    failures = result.errors + result.timeouts + result.non2xx + result.graphql_errors
    return (
        f"{result.requests_per_second:.1f}",
        f"{result.p50_ms:.1f}",
        f"{result.p99_ms:.1f}",
        str(failures),
    )


def render_http(header: str, load: LoadSettings, runs: list[DatabaseRun]) -> str:
    """The printed report: one table per database."""
    lines = [
        header,
        f"load: autocannon on loopback, {load.connections} connections; per workload each "
        f"server runs 2 × {load.half} s in the order on, off, off, on "
        "(p50/p99: mean of its two runs)",
        f"gateway: {load.setup.label}, "
        f"{'compiled path for cached queries' if load.compiled_path else 'general executor only'}; "
        "peer: GraphQL Yoga 5 + graphql-shield, one Node process, orders served from memory",
    ]
    for run in runs:
        database = run.database
        where = (
            f"temporary SQLite, {DEMO_SIZES['users']} users / {DEMO_SIZES['orders']} orders"
            if database.temporary
            else f"{database.backend} at {database.display_url}"
        )
        lines += ["", f"database: {where}", _line(_COLUMNS), _line(tuple("-" * w for w in _WIDTHS))]
        for name, modes in run.results.items():
            on, off = modes["on"], modes["off"]
            ratio = _ratio(on, off)
            shown = "n/a" if ratio is None else f"{ratio:.2f}×"
            lines.append(_line((name, "disclosure on", *_cells(on), shown)))
            lines.append(_line(("", "disclosure off", *_cells(off), "1.00×")))
            if name == SUPPORT and run.peer is not None:
                lines.append(_line(("", "yoga+shield", *_cells(run.peer), "")))
        lines.append(_peer_line(run))
    return "\n".join(lines)


def _ratio(first: LoadResult, second: LoadResult) -> float | None:
    """``first`` req/s over ``second``; None when ``second`` completed nothing."""
    if second.requests_per_second == 0:
        return None
    return first.requests_per_second / second.requests_per_second


def _rounded(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio, 4)


def _peer_line(run: DatabaseRun) -> str:
    if run.peer_skipped is not None:
        return f"peer skipped: {run.peer_skipped}"
    support = run.results.get(SUPPORT)
    if run.peer is None or support is None:
        return "peer not run (the support workload was not selected)"
    ratio = _ratio(support["on"], run.peer)
    shown = "n/a" if ratio is None else f"{ratio:.2f}×"
    check = run.peer_check or {}
    same = (
        "same data as fieldgate"
        if check.get("same_data")
        else f"DATA DIFFERS from fieldgate in {check.get('differing_fields')}"
    )
    return (
        f"{SUPPORT}: fieldgate/peer req/s {shown}; peer answer: {same}; errors "
        f"{check.get('fieldgate_errors')} (fieldgate, one per denied field) vs "
        f"{check.get('peer_errors')} (graphql-shield, one per denied value)"
    )


def http_json(load: LoadSettings, runs: list[DatabaseRun]) -> dict[str, Any]:
    """The HTTP figures, JSON-ready."""
    return {
        "load": {
            "generator": "autocannon",
            "connections": load.connections,
            "duration_s": load.duration,
            "order": "on, off, off, on: each run lasts duration_s / 2",
            "workers": load.workers,
            "server": load.setup.label,
            "server_setup": load.setup.as_json(),
            "compiled_path": load.compiled_path,
        },
        "databases": [_run_json(run) for run in runs],
    }


def _run_json(run: DatabaseRun) -> dict[str, Any]:
    workloads = []
    for name, modes in run.results.items():
        on, off = modes["on"], modes["off"]
        workloads.append(
            {
                "name": name,
                "on": on.as_json(),
                "off": off.as_json(),
                "ratio_rps_on_off": _rounded(_ratio(on, off)),
            }
        )
    peer: dict[str, Any] = {"skipped": run.peer_skipped}
    if run.peer is not None:
        on = run.results[SUPPORT]["on"]
        peer = {
            "workload": SUPPORT,
            "server": "GraphQL Yoga 5 + graphql-shield (Node)",
            "result": run.peer.as_json(),
            "ratio_rps_fieldgate_peer": _rounded(_ratio(on, run.peer)),
            "check": run.peer_check,
        }
    return {
        "backend": run.database.backend,
        "url": run.database.display_url,
        "workloads": workloads,
        "peer": peer,
    }
