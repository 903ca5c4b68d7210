"""GraphQL over HTTP: the answer's media type and status follow ``Accept``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.gateway import Gateway
from tests.security.conftest import Variant

GRAPHQL_RESPONSE = "application/graphql-response+json"
VALID = "{ courses(first: 1) { totalCount } }"


async def ask(gateway: Gateway, query: str, accept: str | None, **kw: Any) -> httpx.Response:
    headers = {"accept": accept} if accept is not None else {}
    return await gateway.post(query, headers=headers, **kw)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("{ courses(first: 1) { totalCount }", "GRAPHQL_PARSE_FAILED"),
        ("{ courses(first: 1) { nope } }", "GRAPHQL_VALIDATION_FAILED"),
        ("query($n: Int!) { courses(first: $n) { totalCount } }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }", "QUERY_TOO_MANY_ALIASES"),
    ],
)
async def test_failing_before_execution(gateway: Gateway, query: str, code: str) -> None:
    modern = await ask(gateway, query, GRAPHQL_RESPONSE)
    assert modern.status_code == 400
    assert modern.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    body = modern.json()
    assert "data" not in body  # nothing was executed
    assert body["errors"][0]["extensions"]["code"] == code
    legacy = await ask(gateway, query, "application/json")
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json; charset=utf-8"
    assert legacy.json()["data"] is None
    assert legacy.json()["errors"][0]["extensions"]["code"] == code


async def test_a_syntax_error_keeps_its_location(gateway: Gateway) -> None:
    body = (await ask(gateway, "{ courses(first: 1) { totalCount }", GRAPHQL_RESPONSE)).json()
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 35}]


async def test_executed_operations_answer_200_even_with_errors(gateway: Gateway) -> None:
    ok = await ask(gateway, VALID, GRAPHQL_RESPONSE)
    assert ok.status_code == 200
    assert ok.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
    assert ok.json()["data"]["courses"]["totalCount"] > 0
    # an error while executing (a bad cursor) is in the data's response, not the request's
    failed = await ask(gateway, '{ courses(after: "nope") { totalCount } }', GRAPHQL_RESPONSE)
    assert failed.status_code == 200
    assert "data" in failed.json()
    assert failed.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # a denial is a partial result, not a request error
    token = await gateway.token("support1")
    denied = await ask(
        gateway,
        "{ orders(first: 1) { edges { node { buyerPhone } } } }",
        GRAPHQL_RESPONSE,
        token=token,
    )
    assert denied.status_code == 200
    assert denied.json()["data"]["orders"]["edges"][0]["node"]["buyerPhone"] is None


async def test_token_failures_stay_401(gateway: Gateway) -> None:
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        response = await ask(gateway, VALID, accept, token="not-a-token")
        assert response.status_code == 401
        assert response.headers["content-type"].endswith("; charset=utf-8")


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "application/*"])
async def test_legacy_json_by_default(gateway: Gateway, accept: str | None) -> None:
    response = await ask(gateway, VALID, accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json; charset=utf-8"


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "application/json;q=0"])
async def test_an_answer_nobody_accepts_is_406(variant: Variant, accept: str) -> None:
    gateway = variant()
    response = await ask(gateway, VALID, accept)
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


async def test_get_follows_the_same_rules(gateway: Gateway) -> None:
    bad = await gateway.client.get(
        "/graphql", params={"query": "{ nope }"}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    html = await gateway.client.get(
        "/graphql", params={"query": VALID}, headers={"accept": "text/html"}
    )
    assert html.status_code == 406


async def test_refusals_use_the_negotiated_type(variant: Variant) -> None:
    gateway = variant(max_body_bytes=10)
    response = await gateway.client.post(
        "/graphql", json={"query": VALID}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"
