"""The HTTP benchmark's own logic: merging runs, comparing answers, the peer's masks."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from bench.overhttp.loadgen import PEERS_DIR, LoadResult, combine
from bench.overhttp.peer import compare_answers
from fieldgate.authz.masking import mask_address, mask_name, mask_phone


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


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_peer_masks_match_fieldgate() -> None:
    script = (
        "import('./yoga/masks.mjs').then((m) => {"
        "const input = JSON.parse(process.argv[1]);"
        "process.stdout.write(JSON.stringify({"
        "phone: input.phone.map(m.maskPhone), name: input.name.map(m.maskName),"
        "address: input.address.map(m.maskAddress)}));});"
    )
    values = {"phone": PHONES, "name": NAMES, "address": ADDRESSES}
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
    }
