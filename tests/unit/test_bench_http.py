"""The HTTP benchmark's own logic: merging runs, comparing answers, the peer's masks, the
server setups and their command lines, and stopping a server's whole process group."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from bench import servers as comparison
from bench.overhttp import servers
from bench.overhttp.__main__ import _parser as overhttp_parser
from bench.overhttp.loadgen import PEERS_DIR, LoadResult, combine
from bench.overhttp.peer import compare_answers
from bench.overhttp.report import http_json, render_http
from bench.overhttp.run import LoadSettings
from bench.overhttp.servers import Server, ServerSetup
from fieldgate.authz.masking import mask_address, mask_email, mask_name, mask_phone


def _result(requests: int, seconds: float, p50: float, errors: int = 0) -> LoadResult:
    return LoadResult(
        requests=requests,
        seconds=seconds,
        requests_per_second=requests / seconds,
        p50_ms=p50,
        p90_ms=p50 * 2,
        p99_ms=p50 * 3,
        max_ms=p50 * 4,
        errors=errors,
        timeouts=0,
        non2xx=1,
        graphql_errors=2,
    )


def test_combine_adds_requests_and_time_and_averages_percentiles() -> None:
    merged = combine([_result(100, 5.0, 10.0, errors=1), _result(300, 5.0, 20.0)])
    assert merged.requests == 400
    assert merged.requests_per_second == pytest.approx(40.0)
    assert merged.p50_ms == pytest.approx(15.0)
    assert merged.max_ms == pytest.approx(80.0)
    assert (merged.errors, merged.non2xx, merged.graphql_errors) == (1, 2, 4)


def test_compare_answers_names_the_fields_that_differ() -> None:
    ours = {"data": {"orders": {"edges": [{"node": {"id": "1", "buyerPhone": "138****5678"}}]}}}
    same = json.loads(json.dumps(ours))
    other = json.loads(json.dumps(ours))
    other["data"]["orders"]["edges"][0]["node"]["buyerPhone"] = "13812345678"
    other["errors"] = [{"message": "Not Authorised!"}]
    assert compare_answers(ours, same)["same_data"] is True
    differs = compare_answers(ours, other)
    assert differs["same_data"] is False
    assert differs["differing_fields"] == ["orders.edges.node.buyerPhone"]
    assert (differs["fieldgate_errors"], differs["peer_errors"]) == (0, 1)


def test_compare_answers_counts_missing_rows() -> None:
    ours = {"data": {"orders": {"edges": [{"node": {"id": "1"}}, {"node": {"id": "2"}}]}}}
    theirs = {"data": {"orders": {"edges": [{"node": {"id": "1"}}]}}}
    assert compare_answers(ours, theirs)["differing_fields"] == ["orders.edges"]


PHONES = ["13812345678", "+86 138-1234-5678", "008613812345678", "1234567", "010-12345678"]
NAMES = ["张三丰", "李四", "王", " Alice Lee ", ""]
ADDRESSES = [
    "北京市海淀区中关村大街1号",
    "上海浦东新区世纪大道100号",
    "广东省深圳市南山区科技园1号",
    "江苏省昆山市玉山镇人民路8号",
    "内蒙古自治区呼和浩特市新城区中山路1号",
    "新疆乌鲁木齐市天山区解放路2号",
    "吉林市船营区河南街3号",
    "浙江省杭州市西湖区",
    "某某路1号",
    "",
]
EMAILS = ["alice@163.com", "b@qq.com", "张三@example.cn", "a@b@c", "no-at-sign", " x.y@z.org "]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_peer_masks_match_fieldgate() -> None:
    script = (
        "import('./yoga/masks.mjs').then((m) => {"
        "const input = JSON.parse(process.argv[1]);"
        "process.stdout.write(JSON.stringify({"
        "phone: input.phone.map(m.maskPhone), name: input.name.map(m.maskName),"
        "address: input.address.map(m.maskAddress), email: input.email.map(m.maskEmail)}));});"
    )
    values = {"phone": PHONES, "name": NAMES, "address": ADDRESSES, "email": EMAILS}
    done = subprocess.run(
        ["node", "-e", script, json.dumps(values, ensure_ascii=False)],
        cwd=PEERS_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout) == {
        "phone": [mask_phone(v) for v in PHONES],
        "name": [mask_name(v) for v in NAMES],
        "address": [mask_address(v) for v in ADDRESSES],
        "email": [mask_email(v) for v in EMAILS],
    }


def _option(command: list[str], name: str) -> str:
    """The value that follows ``name`` on a command line."""
    return command[command.index(name) + 1]


def test_granian_serves_the_factory_over_asgi_with_the_setup_s_workers_and_loop() -> None:
    command = ServerSetup("granian", 4).command(8123)
    assert command[1:3] == ["-m", "granian"]
    assert _option(command, "--interface") == "asgi"  # with lifespan: the app starts its watchers
    assert (_option(command, "--port"), _option(command, "--workers")) == ("8123", "4")
    assert (_option(command, "--loop"), _option(command, "--http")) == ("uvloop", "1")
    assert {"--factory", "--no-ws", "--no-access-log"} <= set(command)
    assert command[-1] == "fieldgate.app:create_app"


def test_uvicorn_takes_the_setup_s_loop_and_http_parser() -> None:
    default = ServerSetup("uvicorn", 2).command(9000)
    plain = ServerSetup("uvicorn", 2, loop="asyncio", http="h11").command(9000)
    assert (_option(default, "--loop"), _option(default, "--http")) == ("uvloop", "httptools")
    assert (_option(plain, "--loop"), _option(plain, "--http")) == ("asyncio", "h11")
    assert plain[1:4] == ["-m", "uvicorn", "fieldgate.app:create_app"]
    assert "--factory" in plain and _option(plain, "--workers") == "2"


def test_setup_labels_name_server_loop_parser_and_workers() -> None:
    assert ServerSetup("uvicorn", 1).label == "uvicorn (uvloop, httptools), 1 worker"
    assert ServerSetup("granian", 2).label == "granian (uvloop, hyper), 2 workers"
    plain = ServerSetup("uvicorn", 2, loop="asyncio", http="h11")
    assert plain.as_json() == {"server": "uvicorn", "workers": 2, "loop": "asyncio", "http": "h11"}


@pytest.mark.parametrize(
    "arguments",
    [
        {"server": "hypercorn"},
        {"server": "granian", "http": "h11"},
        {"server": "uvicorn", "loop": "trio"},
        {"server": "uvicorn", "workers": 0},
    ],
)
def test_a_setup_its_server_cannot_run_is_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ServerSetup(**arguments)  # type: ignore[arg-type]


def test_overhttp_serves_with_uvicorn_unless_told_and_records_the_server() -> None:
    assert overhttp_parser().parse_args([]).server == "uvicorn"
    args = overhttp_parser().parse_args(["--server", "granian", "--workers", "3"])
    load = LoadSettings(10, 32, args.workers, server=args.server)
    assert load.setup == ServerSetup("granian", 3)
    document = http_json(load, [])["load"]
    assert document["server"] == "granian (uvloop, hyper), 3 workers"
    assert document["server_setup"]["server"] == "granian"
    assert "gateway: granian (uvloop, hyper), 3 workers" in render_http("header", load, [])
    with pytest.raises(SystemExit):
        overhttp_parser().parse_args(["--server", "hypercorn"])


def test_every_setup_runs_once_early_and_once_late() -> None:
    order = comparison.measurement_order(comparison.SETUPS)
    assert len(order) == 2 * len(comparison.SETUPS)
    for setup in comparison.SETUPS:
        first, last = (i for i, s in enumerate(order) if s == setup)
        assert first + last == len(order) - 1  # the same mean position: a drift hits all alike


def test_the_comparison_covers_both_servers_and_fits_in_three_minutes_by_default() -> None:
    labels = {s.label for s in comparison.SETUPS}
    for workers in (1, 2, 4):
        assert ServerSetup("uvicorn", workers).label in labels
        assert ServerSetup("granian", workers).label in labels
    assert ServerSetup("uvicorn", 2, loop="asyncio", http="h11") in comparison.SETUPS
    assert comparison.BASELINE in comparison.SETUPS
    args = comparison.parser().parse_args([])
    measured = len(comparison.SETUPS) * (args.duration + args.warmup)
    assert measured <= 120  # servers' start-up and seeding take the rest of ~3 minutes
    assert comparison.parser().parse_args(["--duration", "4"]).duration == 4


def test_the_comparison_reports_each_setup_against_the_baseline() -> None:
    granian = ServerSetup("granian", 2)
    runs = {
        comparison.BASELINE: [_result(100, 5.0, 10.0), _result(100, 5.0, 30.0)],
        granian: [_result(300, 5.0, 5.0), _result(500, 5.0, 5.0, errors=1)],
    }
    measured = comparison.Comparison("support-100-orders", runs, [3.5, 4.0])
    table = comparison.render("header", measured, duration=10, connections=32)
    baseline_line = next(line for line in table.splitlines() if line.startswith("uvicorn"))
    granian_line = next(line for line in table.splitlines() if line.startswith("granian"))
    # req/s, each run, p50 (mean), p99 (mean), errors (non-2xx and logged failures), ratio
    assert baseline_line.split()[-8:] == ["20.0", "20.0", "/", "20.0", "20.0", "60.0", "6", "1.00×"]
    assert granian_line.split()[-8:] == ["80.0", "60.0", "/", "100.0", "5.0", "15.0", "7", "4.00×"]
    document = comparison.comparison_json(measured, duration=10, connections=32)
    by_label = {s["label"]: s for s in document["setups"]}
    assert by_label[granian.label]["ratio_rps_to_baseline"] == pytest.approx(4.0)
    assert by_label[granian.label]["result"]["requests"] == 800
    assert [r["requests"] for r in by_label[granian.label]["runs"]] == [300, 500]
    assert document["baseline"] == comparison.BASELINE.label


def _runs(pid: int) -> bool:
    """Whether ``pid`` is a live process (not ended, not a zombie waiting to be reaped)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_stop_ends_the_whole_group_when_a_worker_outlives_its_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(servers, "STOP_TIMEOUT_S", 0.5)
    # the parent dies on SIGTERM; its child ignores SIGTERM and would be left behind
    script = "trap '' TERM; sleep 30 & trap - TERM; echo $!; wait"
    with subprocess.Popen(
        ["sh", "-c", script], stdout=subprocess.PIPE, start_new_session=True
    ) as process:
        assert process.stdout is not None
        child = int(process.stdout.readline())
        assert _runs(child)
        Server("left-behind", 0, process, tmp_path / "log").stop()
    assert process.returncode is not None
    assert not _runs(child)


async def test_paired_runs_alternate_which_side_goes_first_and_report_ratios() -> None:
    from collections.abc import Awaitable, Callable

    from bench.paired import interleave, report

    calls: list[str] = []
    ticks = iter(range(1000))

    def side(name: str) -> Callable[[], Awaitable[str]]:
        async def run() -> str:
            calls.append(name)
            return name

        return run

    seen: list[tuple[str, str]] = []
    times = await interleave(
        [("a", side("a")), ("b", side("b"))],
        iterations=2,
        warmup=1,
        check=lambda name, result: seen.append((name, result)),
        clock=lambda: float(next(ticks)),
    )
    assert calls == ["a", "b", "b", "a", "a", "b"]  # round 2 starts with b
    assert seen == [(c, c) for c in calls]
    assert times == {"a": [1.0, 1.0], "b": [1.0, 1.0]}  # warm-up round left out
    text = report("t", {"a": [0.002, 0.004], "b": [0.001, 0.002]})
    assert "ratio a / b: mean 2.00x, medians 2.00x, paired 2.00x" in text
