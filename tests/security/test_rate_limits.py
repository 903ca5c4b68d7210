"""Rate limits: requests and query cost per minute, per token, per partner, per client IP;
429 with ``Retry-After`` and code RATE_LIMITED."""

from __future__ import annotations

import httpx
import pytest
from graphql import OperationDefinitionNode, parse

from fieldgate.ratelimit.limiter import WINDOW_SECONDS, RateLimiter
from fieldgate.schema.limits import QueryLimits
from fieldgate.schema.shape import measure
from tests.gateway import Gateway
from tests.security.conftest import Variant

COURSES = "{ courses(first: 5) { edges { node { title priceCents } } } }"


def assert_rate_limited(response: httpx.Response, limit: str) -> None:
    assert response.status_code == 429
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= WINDOW_SECONDS
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["limit"] == limit
    assert "data" not in response.json()


async def test_requests_per_token(variant: Variant) -> None:
    gateway = variant(rate_limit_requests=3)
    token = await gateway.token("alice")
    for _ in range(3):
        assert (await gateway.post(COURSES, token=token)).status_code == 200
    assert_rate_limited(await gateway.post(COURSES, token=token), "requests")
    other = await gateway.token("alice")  # a user's limit is per token
    assert (await gateway.post(COURSES, token=other)).status_code == 200


async def test_requests_per_partner_across_its_tokens(variant: Variant) -> None:
    gateway = variant(rate_limit_requests=4)
    tokens = [await gateway.token("unionpay") for _ in range(3)]
    statuses = [(await gateway.post(COURSES, token=t)).status_code for t in tokens * 2]
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert (await gateway.post(COURSES, token=await gateway.token("alice"))).status_code == 200


async def test_anonymous_callers_per_client_ip(variant: Variant) -> None:
    gateway = variant(rate_limit_requests=2)
    clients = [
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=gateway.app, client=(ip, 4000)),
            base_url="http://test",
        )
        for ip in ("198.51.100.7", "198.51.100.8")
    ]
    try:
        first, second = clients
        body = {"query": COURSES}
        assert (await first.post("/graphql", json=body)).status_code == 200
        assert (await first.post("/graphql", json=body)).status_code == 200
        assert_rate_limited(await first.post("/graphql", json=body), "requests")
        assert (await second.post("/graphql", json=body)).status_code == 200
    finally:
        for client in clients:
            await client.aclose()


def cost_of(gateway: Gateway, query: str) -> int:
    document = parse(query)
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    pages = QueryLimits.from_settings(gateway.services.settings).pages
    return measure(gateway.services.schema._schema, document, operation, pages).cost


async def test_query_cost_per_token(gateway: Gateway, variant: Variant) -> None:
    cost = cost_of(gateway, COURSES)
    assert cost > 1
    limited = variant(rate_limit_cost=cost * 2 + cost // 2)
    token = await limited.token("alice")
    assert (await limited.post(COURSES, token=token)).status_code == 200
    assert (await limited.post(COURSES, token=token)).status_code == 200
    assert_rate_limited(await limited.post(COURSES, token=token), "cost")
    # the budget stays spent for the rest of the minute, whatever the next operation costs
    assert_rate_limited(await limited.post("{ __typename }", token=token), "cost")


async def test_limits_off_at_zero(variant: Variant) -> None:
    gateway = variant(rate_limit_requests=0, rate_limit_cost=0)
    token = await gateway.token("alice")
    statuses = {(await gateway.post(COURSES, token=token)).status_code for _ in range(5)}
    assert statuses == {200}
    assert gateway.services.rate_limiter is not None
    assert gateway.services.rate_limiter.backend_status() == "memory"


async def test_fixed_window_resets() -> None:
    now = [120.0]
    limiter = RateLimiter(requests=2, cost=0, clock=lambda: now[0])
    assert await limiter.charge_request(["token:a"]) is None
    assert await limiter.charge_request(["token:a"]) is None
    exceeded = await limiter.charge_request(["token:a"])
    assert exceeded is not None and exceeded.retry_after == 60
    now[0] = 179.5
    refused = await limiter.charge_request(["token:a"])
    assert refused is not None and refused.retry_after == 1
    now[0] = 180.0
    assert await limiter.charge_request(["token:a"]) is None


@pytest.mark.parametrize("keys", [["token:a", "partner:1"], ["partner:1", "token:b"]])
async def test_any_key_over_its_limit_refuses(keys: list[str]) -> None:
    limiter = RateLimiter(requests=1, cost=0, clock=lambda: 0.0)
    assert await limiter.charge_request(["partner:1"]) is None
    assert await limiter.charge_request(keys) is not None
