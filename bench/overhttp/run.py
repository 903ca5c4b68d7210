"""One HTTP run on one database: servers up, checks, load per workload and mode, servers down."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.checks import BenchAborted
from bench.database import PreparedDatabase
from bench.overhttp.client import error_codes, issue_token, post, request_body
from bench.overhttp.loadgen import LoadResult, combine, run_load
from bench.overhttp.peer import compare_answers, export_orders, start_peer
from bench.overhttp.servers import Server, ServerSetup, gateway_environment, start_gateway
from bench.overhttp.workloads import COURSE_QUERY, SUPPORT, HttpWorkload, Operation

FORBIDDEN_FIELD = "FORBIDDEN_FIELD"
MODES = ("on", "off")


@dataclass(frozen=True, slots=True)
class LoadSettings:
    duration: int
    connections: int
    workers: int
    compiled_path: bool = True  # False: every operation through graphql-core's executor
    server: str = "uvicorn"

    @property
    def setup(self) -> ServerSetup:
        """How each gateway is served: ``server`` with uvloop and its default HTTP code."""
        return ServerSetup(self.server, self.workers)

    @property
    def half(self) -> int:
        """Each mode runs twice per workload (on, off, off, on), half the duration each."""
        return max(1, self.duration // 2)


@dataclass
class DatabaseRun:
    """Every figure measured on one database."""

    database: PreparedDatabase
    results: dict[str, dict[str, LoadResult]] = field(default_factory=dict)
    peer: LoadResult | None = None
    peer_check: dict[str, Any] | None = None
    peer_skipped: str | None = None


def failed_operations(log: Path) -> int:
    """Operations the gateway logged as failed (a denial is not a failure): HTTP 200 answers
    that autocannon counts as successes, such as a write refused by a locked database."""
    with log.open("rb") as lines:
        return sum(
            1
            for line in lines
            if b'"operation_error"' in line and FORBIDDEN_FIELD.encode() not in line
        )


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def check_answer(workload: HttpWorkload, mode: str, answer: dict[str, Any]) -> None:
    """A response worth measuring: data, no error but a denial, and "off" denies nothing."""
    codes = set(error_codes(answer))
    if not answer.get("data") or any(v is None for v in answer["data"].values()):
        raise BenchAborted(f"{workload.name} ({mode}): no data, error codes {sorted(codes)}")
    allowed = {FORBIDDEN_FIELD} if mode == "on" else set()
    if codes - allowed:
        raise BenchAborted(f"{workload.name} ({mode}): error codes {sorted(codes)}")


def request_bodies(
    workload: HttpWorkload, tokens: dict[str, str], course_id: str
) -> list[dict[str, Any]]:
    def one(operation: Operation) -> dict[str, Any]:
        variables = {"course": course_id} if operation.writes else None
        return {
            "body": request_body(operation.query, variables),
            "headers": {"authorization": f"Bearer {tokens[operation.subject]}"},
            "every": operation.every,
        }

    return [one(o) for o in workload.operations]


def run_database(
    database: PreparedDatabase,
    key_dir: Path,
    workloads: tuple[HttpWorkload, ...],
    load: LoadSettings,
    folder: Path,
    peer_problem: str | None,
) -> DatabaseRun:
    """Measure ``workloads`` with disclosure on and off (and the peer on the support query)."""
    run = DatabaseRun(database)
    env = gateway_environment(database.url, key_dir, "on")
    subjects = sorted(set().union(*(w.subjects for w in workloads)) | {"support1"})
    _say(f"issuing tokens with the CLI for {', '.join(subjects)} …")
    tokens = {subject: issue_token(subject, env) for subject in subjects}
    servers: dict[str, Server] = {}
    try:
        for mode in MODES:
            _say(f"starting the gateway, disclosure {mode}, {load.setup.label} …")
            servers[mode] = start_gateway(
                f"gateway ({mode})",
                database.url,
                key_dir,
                disclosure=mode,
                setup=load.setup,
                log=folder / f"gateway-{database.backend}-{mode}.log",
                compiled_path=load.compiled_path,
            )
        course = post(servers["on"].url, request_body(COURSE_QUERY), tokens["support1"])
        course_id = str(course["data"]["courses"]["edges"][0]["node"]["id"])
        for workload in workloads:
            requests = request_bodies(workload, tokens, course_id)
            for mode in MODES:
                for request in requests:
                    token = request["headers"]["authorization"].removeprefix("Bearer ")
                    check_answer(workload, mode, post(servers[mode].url, request["body"], token))
            halves: dict[str, list[LoadResult]] = {mode: [] for mode in MODES}
            # on, off, off, on: a drift in the machine's load hits both modes alike
            for mode in (*MODES, *reversed(MODES)):
                server = servers[mode]
                _say(f"{workload.name}: disclosure {mode}, {load.half} s …")
                failed_before = failed_operations(server.log)
                result = run_load(
                    server.url, requests, duration=load.half, connections=load.connections
                )
                failed = failed_operations(server.log) - failed_before
                halves[mode].append(replace(result, graphql_errors=failed))
            run.results[workload.name] = {mode: combine(halves[mode]) for mode in MODES}
            for mode in MODES:  # each server still answers correctly after the load
                token = requests[0]["headers"]["authorization"].removeprefix("Bearer ")
                check_answer(workload, mode, post(servers[mode].url, requests[0]["body"], token))
        if peer_problem is not None:
            run.peer_skipped = peer_problem
        elif any(w.name == SUPPORT for w in workloads):
            _run_peer(run, servers, tokens["support1"], workloads, load, key_dir, folder)
    finally:
        for server in servers.values():
            server.stop()
    return run


def _run_peer(
    run: DatabaseRun,
    servers: dict[str, Server],
    token: str,
    workloads: tuple[HttpWorkload, ...],
    load: LoadSettings,
    key_dir: Path,
    folder: Path,
) -> None:
    support = next(w for w in workloads if w.name == SUPPORT)
    body = request_body(support.operations[0].query)
    data = folder / f"peer-orders-{run.database.backend}.json"
    rows = export_orders(post(servers["off"].url, body, token), data)
    _say(f"starting the peer (GraphQL Yoga + graphql-shield) on {rows} orders …")
    peer = start_peer(data, key_dir, folder / f"peer-{run.database.backend}.log")
    try:
        run.peer_check = compare_answers(
            post(servers["on"].url, body, token), post(peer.url, body, token)
        )
        _say(f"{SUPPORT}: peer, {load.duration} s …")
        run.peer = run_load(
            peer.url,
            [{"body": body, "headers": {"authorization": f"Bearer {token}"}, "every": 0}],
            duration=load.duration,
            connections=load.connections,
        )
    finally:
        peer.stop()
