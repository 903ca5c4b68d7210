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


@pytest.mark.parametrize("query", INTROSPECTIONS)
async def test_introspection_is_refused_to_anonymous_callers(
    production: Production, query: str
) -> None:
    payload = await production().gql(query)
    assert payload["data"] is None
    assert [e["extensions"]["code"] for e in payload["errors"]] == ["INTROSPECTION_DISABLED"]
    assert payload["errors"][0]["message"] == "introspection is not available to this caller"


@pytest.mark.parametrize("subject", ["alice", "sf-express", "support1"])
async def test_authenticated_callers_see_at_most_their_own_schema(
    production: Production, subject: str
) -> None:
    gateway = production()
    payload = await gateway.gql('{ __type(name: "Query") { fields { name } } }', as_=subject)
    if payload["data"] is None:  # refused outright is fine too (partners: trusted documents only)
        code = payload["errors"][0]["extensions"]["code"]
        assert code in {"INTROSPECTION_DISABLED", "DOCUMENT_NOT_ALLOWED"}
        return
    roots = {f["name"] for f in payload["data"]["__type"]["fields"]}
    assert "auditEvents" not in roots  # only the DPO's schema has the audit trail
    if subject == "sf-express":
        order = await gateway.gql('{ __type(name: "Order") { fields { name } } }', as_=subject)
        names = {f["name"] for f in (order["data"]["__type"] or {"fields": []})["fields"]}
        assert "bankCard" not in names and "buyerPhone" in names


async def test_typename_and_development_introspection_stay(
    production: Production, gateway: Gateway
) -> None:
    assert (await production().gql("{ __typename }"))["data"] == {"__typename": "Query"}
    development = await gateway.gql(SCHEMA_QUERY)
    assert development["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_no_suggestions(production: Production, gateway: Gateway) -> None:
    typo = "{ coursez { totalCount } }"
    staff = await gateway.token("support1")  # staff see the whole schema in development
    assert "Did you mean" in (await gateway.gql(typo, token=staff))["errors"][0]["message"]
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
