"""The HTTP table and the goals, and the same figures as JSON."""

from __future__ import annotations

from typing import Any

from bench.database import DEMO_SIZES
from bench.overhttp.goals import outcomes
from bench.overhttp.loadgen import LoadResult
from bench.overhttp.peer import JIT_PEER_WORKERS
from bench.overhttp.run import MODES, DatabaseRun, LoadSettings
from bench.overhttp.workloads import JIT_PEER, SHIELD_PEER

_COLUMNS = ("workload", "server", "req/s", "CPU ms/req", "p50 ms", "p99 ms", "errors", "on ÷ row")
_WIDTHS = (20, 16, 9, 10, 8, 8, 7, 9)
PEER_DESCRIPTIONS = {
    JIT_PEER: (
        f"GraphQL Yoga 5 + graphql-shield + @envelop/graphql-jit, {JIT_PEER_WORKERS} node:cluster "
        "processes, reading the same SQLite file per request (better-sqlite3), the token's "
        "issued_tokens row checked per request, one error per denied field"
    ),
    SHIELD_PEER: (
        "GraphQL Yoga 5 + graphql-shield, one Node process, the support query's orders from "
        "memory, one error per denied value"
    ),
}


def _line(cells: tuple[str, ...]) -> str:
    first, *rest = zip(cells, _WIDTHS, strict=True)
    return "  ".join((first[0].ljust(first[1]), *(cell.rjust(width) for cell, width in rest)))


def _cells(result: LoadResult) -> tuple[str, str, str, str, str]:
    failures = result.errors + result.timeouts + result.non2xx + result.graphql_errors
    cpu = result.cpu_ms_per_request
    return (
        f"{result.requests_per_second:.1f}",
        "n/a" if cpu is None else f"{cpu:.2f}",
        f"{result.p50_ms:.1f}",
        f"{result.p99_ms:.1f}",
        str(failures),
    )


def _server_name(name: str) -> str:
    return f"disclosure {name}" if name in MODES else name


def render_http(header: str, load: LoadSettings, runs: list[DatabaseRun]) -> str:
    """The printed report: per database, one table and the goals."""
    lines = [
        header,
        f"load: autocannon on loopback, {load.connections} connections; per workload each "
        f"server runs 2 × {load.half} s, in order then reversed (on, off, peers…, off, on; "
        "p50/p99: mean of its two runs; CPU: every process of the server, from /proc)",
        f"gateway: {load.setup.label}, "
        f"{'compiled path for cached queries' if load.compiled_path else 'general executor only'}",
        *(f"peer {name}: {text}" for name, text in PEER_DESCRIPTIONS.items()),
        "\"on ÷ row\": fieldgate's requests/s (disclosure on) over the row's",
    ]
    for run in runs:
        database = run.database
        where = (
            f"temporary SQLite, {DEMO_SIZES['users']} users / {DEMO_SIZES['orders']} orders"
            if database.temporary
            else f"{database.backend} at {database.display_url}"
        )
        lines += ["", f"database: {where}", _line(_COLUMNS), _line(tuple("-" * w for w in _WIDTHS))]
        for workload, servers in run.results.items():
            on = servers["on"]
            for index, (name, result) in enumerate(servers.items()):
                ratio = _ratio(on, result)
                shown = "n/a" if ratio is None else f"{ratio:.2f}×"
                first = workload if index == 0 else ""
                lines.append(_line((first, _server_name(name), *_cells(result), shown)))
        lines += _peer_lines(run)
        lines += ["goals (fieldgate with disclosure on, against the peers, in this run):"]
        lines += [outcome.line for outcome in outcomes(run.results)]
    return "\n".join(lines)


def _peer_lines(run: DatabaseRun) -> list[str]:
    lines = [f"peer {peer} skipped: {why}" for peer, why in run.peer_skipped.items()]
    for workload, checks in run.peer_checks.items():
        for peer, check in checks.items():
            same = (
                "same data as fieldgate"
                if check.get("same_data")
                else f"DATA DIFFERS from fieldgate in {check.get('differing_fields')}"
            )
            errors = (
                "the same errors"
                if check.get("same_errors")
                else f"errors {check.get('fieldgate_errors')} (fieldgate) vs "
                f"{check.get('peer_errors')} ({peer})"
            )
            lines.append(f"{workload}: {peer} answer: {same}, {errors}")
    return lines


def _ratio(first: LoadResult, second: LoadResult) -> float | None:
    """``first`` req/s over ``second``; None when ``second`` completed nothing."""
    if second.requests_per_second == 0:
        return None
    return first.requests_per_second / second.requests_per_second


def _rounded(ratio: float | None) -> float | None:
    return None if ratio is None else round(ratio, 4)


def http_json(load: LoadSettings, runs: list[DatabaseRun]) -> dict[str, Any]:
    """The HTTP figures, JSON-ready."""
    return {
        "load": {
            "generator": "autocannon",
            "connections": load.connections,
            "duration_s": load.duration,
            "order": "on, off, peers, then reversed: each run lasts duration_s / 2",
            "workers": load.workers,
            "server": load.setup.label,
            "server_setup": load.setup.as_json(),
            "compiled_path": load.compiled_path,
        },
        "peers": PEER_DESCRIPTIONS,
        "databases": [_run_json(run) for run in runs],
    }


def _run_json(run: DatabaseRun) -> dict[str, Any]:
    workloads = []
    for name, servers in run.results.items():
        on = servers["on"]
        workloads.append(
            {
                "name": name,
                "servers": {server: result.as_json() for server, result in servers.items()},
                "ratio_rps_on_off": _rounded(_ratio(on, servers["off"])),
                "ratio_rps_fieldgate_peer": {
                    peer: _rounded(_ratio(on, result))
                    for peer, result in servers.items()
                    if peer not in MODES
                },
                "peer_checks": run.peer_checks.get(name, {}),
            }
        )
    return {
        "backend": run.database.backend,
        "url": run.database.display_url,
        "workloads": workloads,
        "peers_skipped": run.peer_skipped,
        "goals": [outcome.as_json() for outcome in outcomes(run.results)],
    }
