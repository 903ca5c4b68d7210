"""The HTTP benchmark's peers and goals: CPU time from /proc, answer comparison, which
peer serves which workload, the goals and their report."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.database import PreparedDatabase
from bench.overhttp.cpu import group_cpu_seconds, parse_stat
from bench.overhttp.goals import outcomes
from bench.overhttp.loadgen import PEERS_DIR, LoadResult, combine
from bench.overhttp.peer import answers_match, compare_answers, sqlite_file
from bench.overhttp.report import http_json, render_http
from bench.overhttp.run import DatabaseRun, LoadSettings
from bench.overhttp.workloads import (
    GRANTED,
    HTTP_WORKLOADS,
    JIT_PEER,
    SHIELD_PEER,
    SMALL,
    SUPPORT,
)


def _result(rps: float, p99: float, cpu: float | None = None) -> LoadResult:
    requests = int(rps * 10)
    return LoadResult(
        requests=requests,
        seconds=10.0,
        requests_per_second=rps,
        p50_ms=p99 / 3,
        p90_ms=p99 / 2,
        p99_ms=p99,
        max_ms=p99 * 2,
        errors=0,
        timeouts=0,
        non2xx=0,
        cpu_seconds=cpu,
    )


def test_a_stat_line_is_read_past_a_command_holding_spaces_and_parentheses() -> None:
    fields = ["S", "1", "4242"] + ["0"] * 8 + ["150", "50"] + ["0"] * 30
    stat = parse_stat(77, f"77 (node (worker) 1) {' '.join(fields)}")
    assert (stat.pid, stat.state, stat.group, stat.cpu_ticks) == (77, "S", 4242, 200)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_group_s_cpu_time_counts_its_processes_only() -> None:
    own = group_cpu_seconds(os.getpgrp())
    assert own is not None and own > 0
    assert group_cpu_seconds(2**22 + 12345) == 0.0  # no such group


def test_cpu_per_request_and_its_sum_over_runs() -> None:
    first, second = _result(100, 30, cpu=2.0), _result(100, 30, cpu=4.0)
    assert first.cpu_ms_per_request == pytest.approx(2.0)  # 2 s over 1000 requests
    merged = combine([first, second])
    assert merged.cpu_seconds == pytest.approx(6.0)
    assert merged.as_json()["cpu_ms_per_request"] == pytest.approx(3.0)
    assert combine([first, _result(100, 30)]).cpu_seconds is None  # one run not measured


def test_the_answers_compare_without_the_fields_that_differ_by_nature() -> None:
    ours = {"data": {"placeOrder": {"id": "2001", "orderNo": "FG1", "status": "pending"}}}
    theirs = {"data": {"placeOrder": {"id": "2002", "orderNo": "FG2", "status": "pending"}}}
    unstable = frozenset({"placeOrder.id", "placeOrder.orderNo"})
    assert compare_answers(ours, theirs, unstable)["same_data"] is True
    assert compare_answers(ours, theirs)["differing_fields"] == [
        "placeOrder.id",
        "placeOrder.orderNo",
    ]


def test_only_the_jit_peer_must_answer_fieldgate_s_errors() -> None:
    error = {"message": "Order.bankCard is not disclosed", "extensions": {"count": 100}}
    ours = {"data": {"x": 1}, "errors": [error]}
    per_value = {"data": {"x": 1}, "errors": [{"message": "Not Authorised!"}] * 100}
    check = compare_answers(ours, per_value)
    assert (check["same_data"], check["same_errors"], check["peer_errors"]) == (True, False, 100)
    assert answers_match(SHIELD_PEER, check)
    assert not answers_match(JIT_PEER, check)
    assert answers_match(JIT_PEER, compare_answers(ours, json.loads(json.dumps(ours))))


def test_the_jit_peer_reads_sqlite_files_only() -> None:
    assert sqlite_file("sqlite+aiosqlite:////tmp/run/bench.db") == Path("/tmp/run/bench.db")
    assert sqlite_file("postgresql+asyncpg://postgres@127.0.0.1:5432/test") is None


def test_the_jit_peer_serves_the_five_compared_workloads_and_shield_the_denied_one() -> None:
    served = {w.name for w in HTTP_WORKLOADS if JIT_PEER in w.peers}
    assert served == {GRANTED, SUPPORT, SMALL, "deep", "write"}
    assert {w.name for w in HTTP_WORKLOADS if SHIELD_PEER in w.peers} == {SUPPORT}
    granted = next(w for w in HTTP_WORKLOADS if w.name == GRANTED).operations[0].query
    for denied in ("buyerIdNumber", "bankCard", "invoiceTitle", "invoiceTaxId"):
        assert denied not in granted


def _results() -> dict[str, dict[str, LoadResult]]:
    return {
        GRANTED: {"on": _result(90, 50, 1.0), "off": _result(95, 50), JIT_PEER: _result(100, 40)},
        SUPPORT: {
            "on": _result(80, 60, 1.0),
            "off": _result(80, 60),
            JIT_PEER: _result(40, 90),
            SHIELD_PEER: _result(20, 200),
        },
    }


def test_each_goal_is_a_ratio_against_its_target() -> None:
    found = {o.goal: o for o in outcomes(_results())}
    granted = found[f"{GRANTED}: req/s vs {JIT_PEER}"]
    assert (granted.measured, granted.met) == ("0.90×", False)
    assert found[f"{SUPPORT}: req/s vs {JIT_PEER}"].met is True  # 2.00× ≥ 1.00×
    assert found[f"{SUPPORT}: req/s vs {SHIELD_PEER}"].measured == "4.00×"  # ≥ 3.00×: met
    small = found[f"{SMALL}: req/s vs {JIT_PEER}"]
    assert (small.measured, small.met) == (None, None)  # not selected: not measured
    assert found[f"{GRANTED}: p99 vs {JIT_PEER}"].met is False  # 50 ms against 40
    assert found[f"{SUPPORT}: p99 vs {JIT_PEER}"].met is True
    assert "NOT MET" in granted.line and "not measured" in small.line


def test_the_report_shows_every_server_of_a_workload_and_the_goals() -> None:
    database = PreparedDatabase("sqlite+aiosqlite:////tmp/run/bench.db", True, "seeded")
    run = DatabaseRun(database, results=_results(), peer_skipped={})
    run.peer_checks = {SUPPORT: {JIT_PEER: compare_answers({"data": {}}, {"data": {}})}}
    load = LoadSettings(10, 32, 2)
    text = render_http("header", load, [run])
    support = text.split(SUPPORT, 1)[1].splitlines()
    assert support[2].split()[:2] == [JIT_PEER, "40.0"]
    assert support[2].split()[-1] == "2.00×"  # fieldgate's req/s over the peer's
    assert support[3].split()[:2] == [SHIELD_PEER, "20.0"]
    assert f"{SUPPORT}: {JIT_PEER} answer: same data as fieldgate, the same errors" in text
    assert "goals (fieldgate with disclosure on" in text
    document = http_json(load, [run])["databases"][0]
    by_name = {w["name"]: w for w in document["workloads"]}
    assert by_name[SUPPORT]["ratio_rps_fieldgate_peer"] == {JIT_PEER: 2.0, SHIELD_PEER: 4.0}
    assert by_name[GRANTED]["servers"]["on"]["cpu_ms_per_request"] == pytest.approx(1.111)
    assert len(document["goals"]) == 6


@pytest.mark.skipif(
    shutil.which("node") is None or not (PEERS_DIR / "node_modules").is_dir(),
    reason="needs node and the peers' packages (make bench installs them)",
)
def test_the_jit_peer_writes_times_as_fieldgate_does() -> None:
    stored = ["2026-05-23 12:21:08.000000", "2026-12-04 17:59:48.057663", "2024-01-02 03:04:05"]
    script = (
        "import('./yoga-jit/store.mjs').then((m) => process.stdout.write("
        "JSON.stringify(JSON.parse(process.argv[1]).map(m.isoTime))));"
    )
    done = subprocess.run(
        ["node", "-e", script, json.dumps(stored)],
        cwd=PEERS_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    expected = [datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat() for value in stored]
    assert json.loads(done.stdout) == expected
