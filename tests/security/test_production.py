"""Production mode: no GraphiQL, introspection for staff only, no suggestions, and the
secure headers (HSTS only in production)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.gateway import Gateway

Production = Callable[..., Gateway]
SCHEMA_QUERY = "{ __schema { queryType { name } } }"
INTROSPECTIONS = [
    SCHEMA_QUERY,
    '{ __type(name: "User") { fields { name } } }',
    "{ hidden: __schema { types { name } } }",
    "{ courses(first: 1) { totalCount } __schema { types { name } } }",
]


async def test_no_graphiql(production: Production, gateway: Gateway) -> None:
    served = await gateway.client.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" in served.text.lower()  # development
    response = await production().client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "graphiql" not in response.text.lower()
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    schema = await production().client.get("/graphql/schema.graphql")
    assert schema.status_code in (404, 405)
    assert "@classified" not in schema.text


async def test_graphiql_when_asked_for(production: Production) -> None:
    response = await production(graphiql=True).client.get(
        "/graphql", headers={"accept": "text/html"}
    )
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


@pytest.mark.parametrize("subject", [None, "alice", "sf-express"])
@pytest.mark.parametrize("query", INTROSPECTIONS)
async def test_introspection_is_refused_to_all_but_staff(
    production: Production, subject: str | None, query: str
) -> None:
    gateway = production()
    token = await gateway.token(subject) if subject else None
    payload = await gateway.gql(query, token=token)
    assert payload["data"] is None
    assert [e["extensions"]["code"] for e in payload["errors"]] == ["INTROSPECTION_DISABLED"]
    assert payload["errors"][0]["message"] == "introspection is not available to this caller"


async def test_staff_may_introspect(production: Production) -> None:
    gateway = production()
    payload = await gateway.gql(SCHEMA_QUERY, as_="support1")
    assert payload["data"] == {"__schema": {"queryType": {"name": "Query"}}}
    assert "errors" not in payload
    fields = await gateway.gql('{ __type(name: "Order") { fields { name } } }', as_="dpo")
    assert {"name": "bankCard"} in fields["data"]["__type"]["fields"]


async def test_typename_and_development_introspection_stay(
    production: Production, gateway: Gateway
) -> None:
    assert (await production().gql("{ __typename }"))["data"] == {"__typename": "Query"}
    development = await gateway.gql(SCHEMA_QUERY)
    assert development["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_no_suggestions(production: Production, gateway: Gateway) -> None:
    typo = "{ coursez { totalCount } }"
    assert "Did you mean" in (await gateway.gql(typo))["errors"][0]["message"]
    refused = (await production().gql(typo))["errors"]
    assert refused[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert all("Did you mean" not in e["message"] for e in refused)
    # in variables too (coerced while executing)
    profile = "mutation($i: ProfileInput!) { updateMyProfile(input: $i) { id } }"
    development = await gateway.gql(profile, {"i": {"nicknam": "x"}}, as_="alice")
    assert "Did you mean 'nickname'" in development["errors"][0]["message"]
    hidden = await production().gql(profile, {"i": {"nicknam": "x"}}, as_="alice")
    assert hidden["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert all("Did you mean" not in e["message"] for e in hidden["errors"])


@pytest.mark.parametrize("path", ["/graphql", "/healthz"])
async def test_secure_headers(production: Production, gateway: Gateway, path: str) -> None:
    for app, hsts in ((gateway, False), (production(), True)):
        response = await app.client.get(path, headers={"accept": "application/json"})
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert ("strict-transport-security" in headers) is hsts
        assert (headers.get("cache-control") == "no-store") is (path == "/graphql")
        assert "server" not in headers
    hsts_value = (await production().client.get(path)).headers["strict-transport-security"]
    assert hsts_value.startswith("max-age=")


async def test_refusals_are_hardened_too(production: Production) -> None:
    gateway = production()
    for response in (
        await gateway.client.post("/graphql", content="{}", headers={"content-type": "text/plain"}),
        await gateway.post("{ __typename }", token="forged"),
        await gateway.client.put("/graphql"),
    ):
        assert response.status_code in (401, 405, 415)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert "strict-transport-security" in response.headers
