"""Automatic persisted queries (Apollo's convention) over POST and GET."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import httpx
import orjson

from fieldgate.documents.store import find_document
from tests.gateway import Gateway

GRAPHQL_RESPONSE = "application/graphql-response+json"


def fresh(query: str) -> tuple[str, str]:
    """A document never sent before (a unique comment), and its SHA-256."""
    text = f"{query}\n# {uuid.uuid4()}"
    return text, hashlib.sha256(text.encode()).hexdigest()


def persisted(digest: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


async def send(
    gateway: Gateway,
    body: dict[str, Any],
    *,
    token: str | None = None,
    accept: str | None = None,
) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    if accept is not None:
        headers["accept"] = accept
    return await gateway.client.post("/graphql", json=body, headers=headers)


async def test_register_by_use_then_hash_only(gateway: Gateway) -> None:
    token = await gateway.token("alice")
    query, digest = fresh("query Me { me { username } }")
    assert await find_document(gateway.services.engine, digest) is None

    first = await send(gateway, {"query": query, "extensions": persisted(digest)}, token=token)
    assert first.json() == {
        "data": {"me": {"username": "alice"}},
        "extensions": first.json()["extensions"],
    }
    assert await find_document(gateway.services.engine, digest) == query

    again = await send(gateway, {"extensions": persisted(digest)}, token=token)
    assert again.status_code == 200
    assert again.json()["data"] == {"me": {"username": "alice"}}

    params = {"extensions": orjson.dumps(persisted(digest)).decode()}
    by_get = await gateway.client.get(
        "/graphql",
        params=params,
        headers={"authorization": f"Bearer {token}", "accept": "application/json"},
    )
    assert by_get.status_code == 200, by_get.text
    assert by_get.json()["data"] == {"me": {"username": "alice"}}


async def test_anonymous_may_persist_catalogue_queries(gateway: Gateway) -> None:
    query, digest = fresh("{ courses(first: 2) { totalCount } }")
    first = await send(gateway, {"query": query, "extensions": persisted(digest)})
    assert first.json()["data"]["courses"]["totalCount"] > 0
    again = await send(gateway, {"extensions": persisted(digest)})
    assert again.json()["data"] == first.json()["data"]


async def test_unknown_hash_is_not_found(gateway: Gateway) -> None:
    _, digest = fresh("{ me { id } }")
    legacy = await send(gateway, {"extensions": persisted(digest)})
    assert legacy.status_code == 200
    assert codes(legacy) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert legacy.json()["data"] is None

    strict = await send(gateway, {"extensions": persisted(digest)}, accept=GRAPHQL_RESPONSE)
    assert strict.status_code == 400
    assert codes(strict) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert "data" not in strict.json()

    params = {"extensions": orjson.dumps(persisted(digest)).decode()}
    by_get = await gateway.client.get("/graphql", params=params)
    assert codes(by_get) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_a_hash_that_does_not_match_is_refused_and_not_stored(gateway: Gateway) -> None:
    query, _ = fresh("{ courses(first: 1) { totalCount } }")
    _, other = fresh("{ courses(first: 1) { totalCount } }")
    refused = await send(gateway, {"query": query, "extensions": persisted(other)})
    assert codes(refused) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    assert refused.json()["data"] is None
    assert await find_document(gateway.services.engine, other) is None


async def test_a_document_that_fails_validation_is_not_stored(gateway: Gateway) -> None:
    query, digest = fresh("{ courses(first: 1) { noSuchField } }")
    refused = await send(gateway, {"query": query, "extensions": persisted(digest)})
    assert codes(refused) == ["GRAPHQL_VALIDATION_FAILED"]
    assert await find_document(gateway.services.engine, digest) is None
    unknown = await send(gateway, {"extensions": persisted(digest)})
    assert codes(unknown) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_malformed_persisted_query_extension(gateway: Gateway) -> None:
    for extension in (
        {"persistedQuery": {"version": 2, "sha256Hash": "0" * 64}},
        {"persistedQuery": {"version": 1, "sha256Hash": "not-a-hash"}},
        {"persistedQuery": "yes"},
    ):
        refused = await send(gateway, {"query": "{ me { id } }", "extensions": extension})
        assert codes(refused) == ["PERSISTED_QUERY_INVALID"], extension


async def test_a_persisted_mutation_never_runs_over_get(gateway: Gateway) -> None:
    token = await gateway.token("alice")
    mutation, digest = fresh('mutation W { withdrawConsent(purpose: "MARKETING") { purpose } }')
    stored = await send(gateway, {"query": mutation, "extensions": persisted(digest)}, token=token)
    assert "data" in stored.json()
    params = {"extensions": orjson.dumps(persisted(digest)).decode()}
    by_get = await gateway.client.get(
        "/graphql", params=params, headers={"authorization": f"Bearer {token}"}
    )
    assert by_get.status_code == 405
    assert by_get.headers["allow"] == "POST"
