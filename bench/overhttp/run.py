"""One HTTP run on one database: servers up, checks, load per workload and server, servers down."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.checks import BenchAborted
from bench.database import PreparedDatabase
from bench.overhttp.client import error_codes, issue_token, post, request_body
from bench.overhttp.loadgen import LoadResult, combine, run_load
from bench.overhttp.peer import (
    answers_match,
    compare_answers,
    export_orders,
    sqlite_file,
    start_jit_peer,
    start_peer,
)
from bench.overhttp.servers import Server, ServerSetup, gateway_environment, start_gateway
from bench.overhttp.workloads import (
    COURSE_QUERY,
    JIT_PEER,
    SHIELD_PEER,
    HttpWorkload,
    Operation,
)
from bench.workloads import orders_query

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
    """Every figure measured on one database.

    ``results``: workload → server (``on``, ``off``, or a peer's name) → what it served;
    ``peer_checks``: workload → peer → how its answer compared with fieldgate's;
    ``peer_skipped``: peer → why it did not run.
    """

    database: PreparedDatabase
    results: dict[str, dict[str, LoadResult]] = field(default_factory=dict)
    peer_checks: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    peer_skipped: dict[str, str] = field(default_factory=dict)


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
    """Measure ``workloads`` with disclosure on and off and against the peers that serve
    them, all in the same interleaved rounds."""
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
        wanted = sorted({peer for w in workloads for peer in w.peers})
        if peer_problem is not None:
            run.peer_skipped = dict.fromkeys(wanted, peer_problem)
        else:
            _start_peers(run, servers, wanted, tokens["support1"], key_dir, folder)
        for workload in workloads:
            _measure(run, servers, workload, request_bodies(workload, tokens, course_id), load)
    finally:
        for server in servers.values():
            server.stop()
    return run


def _measure(
    run: DatabaseRun,
    servers: dict[str, Server],
    workload: HttpWorkload,
    requests: list[dict[str, Any]],
    load: LoadSettings,
) -> None:
    """One workload: checks, then each server ``load.half`` s in order and reversed."""
    for mode in MODES:
        for request in requests:
            token = request["headers"]["authorization"].removeprefix("Bearer ")
            check_answer(workload, mode, post(servers[mode].url, request["body"], token))
    contenders = [*MODES, *_peers_answering_alike(run, servers, workload, requests[0])]
    rounds: dict[str, list[LoadResult]] = {name: [] for name in contenders}
    # e.g. on, off, peer, peer, off, on: a drift in the machine's load hits every server alike
    for name in (*contenders, *reversed(contenders)):
        server = servers[name]
        _say(f"{workload.name}: {_label(name)}, {load.half} s …")
        failed_before = failed_operations(server.log)
        result = run_load(
            server.url,
            requests,
            duration=load.half,
            connections=load.connections,
            cpu_group=server.process.pid,  # the group leader: the server's own session
        )
        failed = failed_operations(server.log) - failed_before
        rounds[name].append(replace(result, graphql_errors=failed))
    run.results[workload.name] = {name: combine(rounds[name]) for name in contenders}
    for mode in MODES:  # each gateway still answers correctly after the load
        token = requests[0]["headers"]["authorization"].removeprefix("Bearer ")
        check_answer(workload, mode, post(servers[mode].url, requests[0]["body"], token))


def _label(name: str) -> str:
    return f"disclosure {name}" if name in MODES else name


def _peers_answering_alike(
    run: DatabaseRun, servers: dict[str, Server], workload: HttpWorkload, request: dict[str, Any]
) -> list[str]:
    """The peers of ``workload`` that run and answer what fieldgate answers (disclosure on);
    the check of each is kept for the report, and a peer that differs is not measured."""
    token = request["headers"]["authorization"].removeprefix("Bearer ")
    alike: list[str] = []
    for peer in workload.peers:
        if peer not in servers:
            continue
        ours = post(servers["on"].url, request["body"], token)
        check = compare_answers(
            ours, post(servers[peer].url, request["body"], token), workload.unstable
        )
        run.peer_checks.setdefault(workload.name, {})[peer] = check
        if answers_match(peer, check):
            alike.append(peer)
        else:
            _say(f"{workload.name}: {peer} answers differently, not measured: {check}")
    return alike


def _start_peers(
    run: DatabaseRun,
    servers: dict[str, Server],
    wanted: list[str],
    token: str,
    key_dir: Path,
    folder: Path,
) -> None:
    """Start the ``wanted`` peers into ``servers``; why one cannot run goes to the run."""
    backend = run.database.backend
    if SHIELD_PEER in wanted:
        # the shield peer serves from memory the very rows fieldgate reads (disclosure off)
        body = request_body(orders_query("Big", "CUSTOMER_SUPPORT"))
        data = folder / f"peer-orders-{backend}.json"
        rows = export_orders(post(servers["off"].url, body, token), data)
        _say(f"starting the peer {SHIELD_PEER} on {rows} orders …")
        servers[SHIELD_PEER] = start_peer(data, key_dir, folder / f"peer-shield-{backend}.log")
    if JIT_PEER in wanted:
        database = sqlite_file(run.database.url)
        if database is None:
            run.peer_skipped[JIT_PEER] = f"it reads a SQLite file; this database is {backend}"
        else:
            _say(f"starting the peer {JIT_PEER} on {database} …")
            servers[JIT_PEER] = start_jit_peer(
                database, key_dir, folder / f"peer-jit-{backend}.log"
            )
