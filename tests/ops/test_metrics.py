"""``/metrics``: every metric exposed, requests and disclosures counted, no personal data."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from fieldgate.observability.metrics import Metrics
from tests.gateway import Gateway
from tests.ops.conftest import MakeApp, services_of

METRICS = (
    "fieldgate_requests_total",
    "fieldgate_request_seconds_bucket",
    "fieldgate_disclosures_total",
    "fieldgate_plan_cache_hits_total",
    "fieldgate_plan_cache_misses_total",
    "fieldgate_compiled_runs_total",
    "fieldgate_compiled_fallbacks_total",
    "fieldgate_audit_queue_depth",
    "fieldgate_rate_limited_total",
    "fieldgate_policy_reload_failures_total",
    "fieldgate_database_up",
)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_metrics_expose_each_metric_and_count_a_request(
    gateway: Gateway, make_app: MakeApp
) -> None:
    app, client = make_app()
    services = services_of(app)
    services.metrics.rate_limited.inc()  # as the rate limiter does
    token = await gateway.token("alice")
    headers = {"authorization": f"Bearer {token}"}
    phone_query = {"query": "query MyPhone { me { phone } }"}
    first = await client.post("/graphql", json=phone_query, headers=headers)
    phone = first.json()["data"]["me"]["phone"]
    assert phone

    before = samples((await client.get("/metrics")).text)
    again = await client.post("/graphql", json=phone_query, headers=headers)
    assert again.status_code == 200
    scraped = await client.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    after = samples(scraped.text)

    names = {name for name, _ in after}
    for metric in METRICS:
        assert metric in names, metric
    ok_queries = ("fieldgate_requests_total", (("operation_type", "query"), ("status", "200")))
    assert after[ok_queries] == before[ok_queries] + 1
    seconds = ("fieldgate_request_seconds_count", ())
    assert after[seconds] > before[seconds]
    assert after[("fieldgate_plan_cache_hits_total", ())] >= 1  # the second one hit
    assert after[("fieldgate_plan_cache_misses_total", ())] >= 1
    compiled = ("fieldgate_compiled_runs_total", ())
    assert after[compiled] == before[compiled] + 1  # the cached plan's query, compiled
    assert after[("fieldgate_rate_limited_total", ())] == 1
    assert after[("fieldgate_database_up", ())] == 1
    full = (
        "fieldgate_disclosures_total",
        (("outcome", "FULL"), ("purpose", "RIGHTS"), ("role", "user")),
    )
    assert after[full] == before[full] + 1  # one (coordinate, outcome), not one per value
    assert phone not in scraped.text


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_metrics_can_be_switched_off(make_app: MakeApp) -> None:
    _, client = make_app(metrics=False)
    assert (await client.get("/metrics")).status_code == 404
    assert (await client.get("/readyz")).status_code == 200


def test_each_app_has_its_own_registry() -> None:
    one, two = Metrics(), Metrics()
    one.rate_limited.inc()
    assert b"fieldgate_rate_limited_total 1.0" in one.render()
    assert b"fieldgate_rate_limited_total 0.0" in two.render()
