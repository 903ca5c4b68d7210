"""HTTP fuzz: random bytes, random JSON and random GraphQL-like text POSTed to /graphql,
with and without a token. Every answer is a JSON object with ``data`` or ``errors`` (each
error with ``extensions.code``), never a 5xx, and never holds a stored SENSITIVE value.

The token is a staff member's; the alphabet has no ``@purpose``, and staff without a
declared purpose are disclosed no PERSONAL or SENSITIVE value at all.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.gateway import Gateway
from tests.property.test_no_leak import sensitive_values

STAFF = "support1"
ALPHABET = [
    "{", "}", "(", ")", ":", "$", "@", "!", "[", "]", "=", ",", "...", "#", "\n",
    "query", "mutation", "subscription", "fragment", "on", "Q", "F", "User", "Order",
    "orders", "users", "me", "user", "order", "tickets", "courses", "course", "edges", "node",
    "id", "phone", "buyerPhone", "bankCard", "idNumber", "deliveryAddress", "contactPhone",
    "devices", "imei", "items", "buyer", "totalCount", "pageInfo", "__typename", "__schema",
    "__type", "types", "name", "first", "after", "1", "100", "-1", "0.5", "true", "null",
    '"x"', '"""y"""', "include", "skip", "if", "a:", "b:", "Int", "ID", "$n",
]  # fmt: skip
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
GRAPHQL_LIKE = st.lists(st.sampled_from(ALPHABET), max_size=60).map(" ".join)
OPERATIONS = st.fixed_dictionaries(
    {"query": GRAPHQL_LIKE},
    optional={
        "variables": st.one_of(
            JSON_VALUES, st.dictionaries(st.sampled_from(["n", "id"]), JSON_VALUES)
        ),
        "operationName": st.one_of(st.none(), st.sampled_from(["Q", "F", ""]), JSON_VALUES),
    },
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_TOKENS: dict[str, str] = {}


async def staff_token(gateway: Gateway) -> str:
    if gateway.database_url not in _TOKENS:
        _TOKENS[gateway.database_url] = await gateway.token(STAFF)
    return _TOKENS[gateway.database_url]


async def send(gateway: Gateway, body: bytes, with_token: bool) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if with_token:
        headers["authorization"] = f"Bearer {await staff_token(gateway)}"
    return await gateway.client.post("/graphql", content=body, headers=headers)


async def check(gateway: Gateway, response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")
    payloads: Any = response.json()
    for payload in payloads if isinstance(payloads, list) else [payloads]:
        assert isinstance(payload, dict)
        assert "data" in payload or "errors" in payload, payload
        for error in payload.get("errors") or []:
            assert isinstance(error["message"], str)
            assert isinstance(error["extensions"]["code"], str), error
            assert "Traceback" not in error["message"]
    for value in await sensitive_values(gateway):
        assert value not in response.text, "a stored SENSITIVE value left the gateway"


@FUZZ
@given(body=st.binary(max_size=600), with_token=st.booleans())
async def test_random_bytes(gateway: Gateway, body: bytes, with_token: bool) -> None:
    await check(gateway, await send(gateway, body, with_token))


@FUZZ
@given(value=JSON_VALUES, with_token=st.booleans())
async def test_random_json(gateway: Gateway, value: Any, with_token: bool) -> None:
    await check(gateway, await send(gateway, json.dumps(value).encode(), with_token))


@FUZZ
@given(operation=OPERATIONS, with_token=st.booleans())
async def test_random_graphql_like_text(
    gateway: Gateway, operation: dict[str, Any], with_token: bool
) -> None:
    await check(gateway, await send(gateway, json.dumps(operation).encode(), with_token))


async def test_the_oracle_is_not_vacuous(gateway: Gateway) -> None:
    """The values searched for are there, and in the form a response would carry them."""
    values = await sensitive_values(gateway)
    assert len(values) > 100
    token = await gateway.token(STAFF)
    disclosed = await gateway.post(
        "query @purpose(name: CUSTOMER_SUPPORT) "
        "{ tickets(first: 100) { edges { node { contactPhone order { deliveryAddress } } } } }",
        token=token,
    )
    assert any(value in disclosed.text for value in values)
    # and the same fields without a purpose disclose none of them
    undeclared = await gateway.post(
        "{ tickets(first: 100) { edges { node { contactPhone order { deliveryAddress } } } } }",
        token=token,
    )
    await check(gateway, undeclared)
