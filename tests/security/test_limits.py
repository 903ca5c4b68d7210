"""Query limits: at each limit an operation runs; one over, it is refused with its code
before any SQL statement runs."""

from __future__ import annotations

import gc
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from graphql.language import Lexer, Source, TokenKind

from fieldgate.settings import Settings
from tests.gateway import Gateway, recorded_statements
from tests.security.conftest import Variant

COURSES = "{ courses(first: 1) { edges { node { id } } } }"


def tokens(document: str) -> int:
    """The tokens graphql-core counts against the limit (comments included)."""
    lexer = Lexer(Source(document))
    while lexer.advance().kind is not TokenKind.EOF:
        pass
    count, token = 0, lexer.token.prev
    while token is not None and token.kind is not TokenKind.SOF:
        count, token = count + 1, token.prev
    return count


async def runs(gateway: Gateway, query: str) -> dict[str, Any]:
    """POST ``query``; it must execute (some SQL runs) and answer without errors."""
    with recorded_statements(gateway) as statements:
        response = await gateway.post(query)
    payload: dict[str, Any] = response.json()
    assert response.status_code == 200, payload
    assert "errors" not in payload, payload
    assert payload["data"] is not None
    assert statements, "an operation within the limits runs"
    return payload


async def refused(gateway: Gateway, query: str, code: str) -> dict[str, Any]:
    """POST ``query``; it must be refused with ``code`` first, and no SQL may run."""
    with recorded_statements(gateway) as statements:
        response = await gateway.post(query)
    payload: dict[str, Any] = response.json()
    assert response.status_code == 200, payload  # legacy application/json
    assert payload["data"] is None
    assert payload["errors"][0]["extensions"]["code"] == code, payload
    assert statements == []
    return payload


def test_the_defaults() -> None:
    names = ["max_body_bytes", "max_tokens", "max_depth", "max_aliases", "max_directives",
             "max_root_fields", "max_cost", "max_batch", "cors_origins"]  # fmt: skip
    defaults = [Settings.model_fields[name].default for name in names]
    assert defaults == [100 * 1024, 2_000, 10, 30, 5, 10, 50_000, 0, ""]


async def test_tokens(variant: Variant) -> None:
    gateway = variant()  # the defaults, on an engine of its own
    # Comments count as tokens: the lexer stops at the limit whatever the document holds.
    assert tokens(COURSES) == 17
    at_limit = COURSES + "\n#" * (2_000 - 17)
    assert tokens(at_limit) == 2_000
    await runs(gateway, at_limit)
    payload = await refused(gateway, at_limit + "\n#", "QUERY_TOO_MANY_TOKENS")
    assert payload["errors"][0]["extensions"]["limit"] == 2_000


async def test_depth(variant: Variant) -> None:
    gateway = variant(max_depth=3)
    await runs(gateway, COURSES)  # courses → edges → node: 3
    await refused(
        gateway, "{ orders(first: 1) { edges { node { buyer { id } } } } }", "QUERY_TOO_DEEP"
    )


async def test_depth_default_allows_the_deepest_real_path(variant: Variant) -> None:
    gateway = variant()
    deepest = (
        "{ tickets(first: 1) { edges { node { order { buyer "
        "{ enrollments { course { id } } } } } } } }"
    )
    response = await gateway.post(deepest)  # anonymous: rows are filtered, nothing refused
    assert all(
        e["extensions"]["code"] != "QUERY_TOO_DEEP" for e in response.json().get("errors", [])
    )
    eleven = "{ " + "a { " * 11 + "id" + " }" * 12  # unknown fields: still measured first
    await refused(gateway, eleven, "QUERY_TOO_DEEP")


async def test_aliases(variant: Variant) -> None:
    gateway = variant()

    def aliased(count: int) -> str:
        fields = " ".join(f"a{i}: id" for i in range(count))
        return f"{{ courses(first: 1) {{ edges {{ node {{ {fields} }} }} }} }}"

    await runs(gateway, aliased(30))
    await refused(gateway, aliased(31), "QUERY_TOO_MANY_ALIASES")


async def test_directives_per_location(variant: Variant) -> None:
    gateway = variant(max_directives=2)
    field = "id @include(if: true) @skip(if: false)"
    await runs(gateway, f"{{ courses(first: 1) {{ edges {{ node {{ {field} }} }} }} }}")
    await refused(
        gateway,
        f"{{ courses(first: 1) {{ edges {{ node {{ {field} @include(if: true) }} }} }} }}",
        "QUERY_TOO_MANY_DIRECTIVES",
    )


async def test_directives_default(variant: Variant) -> None:
    gateway = variant()
    six = " ".join(["@include(if: true)"] * 6)
    await refused(
        gateway,
        f"{{ courses(first: 1) {{ edges {{ node {{ id {six} }} }} }} }}",
        "QUERY_TOO_MANY_DIRECTIVES",
    )


async def test_root_fields(variant: Variant) -> None:
    gateway = variant()

    def roots(count: int) -> str:
        return (
            "{ "
            + " ".join(f"r{i}: courses(first: 1) {{ totalCount }}" for i in range(count))
            + " }"
        )

    await runs(gateway, roots(10))
    await refused(gateway, roots(11), "QUERY_TOO_MANY_ROOT_FIELDS")


async def test_cost(variant: Variant) -> None:
    # courses 1 + edges (1 + 3 rows × (node 1 + id 1)) = 8
    gateway = variant(max_cost=8)
    await runs(gateway, "{ courses(first: 3) { edges { node { id } } } }")
    await refused(gateway, "{ courses(first: 4) { edges { node { id } } } }", "QUERY_TOO_COSTLY")
    # a variable page is costed at the cap, as its value is not known when validating
    with recorded_statements(gateway) as statements:
        response = await gateway.post(
            "query($n: Int) { courses(first: $n) { edges { node { id } } } }", {"n": 1}
        )
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert statements == []


async def test_cost_default_refuses_every_relation_of_a_hundred_users(variant: Variant) -> None:
    gateway = variant()
    # What the policy matrix reads for each user, 20 rows assumed per relation: 621 a user.
    every_field = (
        "id username nickname avatarUrl region phone email realName idNumber birthDate gender "
        "jobTitle company education realNameVerified createdAt "
        "devices { id model os imei mac ip lastSeenAt } loginEvents { id ip city at succeeded } "
        "enrollments { id progress studyMinutes completed enrolledAt "
        "course { id title category description teacher priceCents shipsMaterials createdAt } } "
        "thirdPartyLogins { id provider externalNickname boundAt }"
    )
    query = "{ users(first: %d) { edges { node { %s } } } }"
    staff = await gateway.token("security1")  # a caller whose schema has every user field
    with recorded_statements(gateway) as statements:
        costly = (await gateway.post(query % (100, every_field), token=staff)).json()  # 62,102
    assert costly["data"] is None
    assert costly["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert all("issued_tokens" in s for s in statements)  # only the token check ran
    response = await gateway.post(query % (20, every_field), token=staff)  # 12,422
    assert all(
        e["extensions"]["code"] != "QUERY_TOO_COSTLY" for e in response.json().get("errors", [])
    )


async def test_fragments_spread_into_each_other_are_measured_quickly(variant: Variant) -> None:
    gateway = variant()
    # 70 fragments, each spreading the next twice: 2^70 fields if expanded naively.
    fragments = " ".join(
        f"fragment F{i} on Course {{ id ...F{i + 1} ...F{i + 1} }}" for i in range(70)
    )
    query = (
        "{ courses(first: 1) { edges { node { ...F0 } } } } "
        f"{fragments} fragment F70 on Course {{ id }}"
    )
    started = time.perf_counter()
    payload = await refused(gateway, query, "QUERY_TOO_COSTLY")
    assert time.perf_counter() - started < 1.0
    assert payload["errors"][0]["message"] == (
        "estimated cost over 1000000000000000000 exceeds the limit of 50000"
    )


async def test_nesting_beyond_the_parser_is_refused_as_too_deep(variant: Variant) -> None:
    gateway = variant(max_tokens=100_000, max_body_bytes=1_000_000)
    await refused(gateway, "{ me " + "{ me " * 3_000 + "}" * 3_001, "QUERY_TOO_DEEP")


async def test_body_size(variant: Variant) -> None:
    gateway = variant(max_body_bytes=1_000)
    body = json.dumps({"query": COURSES}).encode()
    at_limit = body + b" " * (1_000 - len(body))
    headers = {"content-type": "application/json"}
    response = await gateway.client.post("/graphql", content=at_limit, headers=headers)
    assert response.status_code == 200
    assert response.json()["data"]["courses"]["edges"]
    with recorded_statements(gateway) as statements:
        over = await gateway.client.post("/graphql", content=at_limit + b" ", headers=headers)
    assert over.status_code == 413
    assert over.json() == {
        "errors": [
            {
                "message": "the body exceeds 1000 bytes",
                "extensions": {"code": "REQUEST_TOO_LARGE", "limit": 1_000},
            }
        ]
    }
    assert statements == []


async def test_body_size_while_reading_without_content_length(variant: Variant) -> None:
    gateway = variant(max_body_bytes=1_000)

    async def chunks(total: int) -> AsyncIterator[bytes]:
        body = json.dumps({"query": COURSES}).encode()
        yield body
        for _ in range(total - len(body)):
            yield b" "

    headers = {"content-type": "application/json"}
    fits = await gateway.client.post("/graphql", content=chunks(1_000), headers=headers)
    assert fits.status_code == 200
    assert "transfer-encoding" in fits.request.headers  # no Content-Length was sent
    with recorded_statements(gateway) as statements:
        over = await gateway.client.post("/graphql", content=chunks(1_001), headers=headers)
    assert over.status_code == 413
    assert over.json()["errors"][0]["extensions"]["code"] == "REQUEST_TOO_LARGE"
    assert statements == []


async def test_body_size_default(variant: Variant) -> None:
    gateway = variant()
    body = json.dumps({"query": COURSES}).encode()
    limit = 100 * 1024
    headers = {"content-type": "application/json"}
    fits = body + b" " * (limit - len(body))
    assert (await gateway.client.post("/graphql", content=fits, headers=headers)).status_code == 200
    over = await gateway.client.post("/graphql", content=fits + b" ", headers=headers)
    assert over.status_code == 413


async def test_a_megabyte_of_tokens_is_refused_in_milliseconds(variant: Variant) -> None:
    body = json.dumps({"query": "{ " + "id " * 350_000 + "}"}).encode()
    assert len(body) > 1_000_000
    headers = {"content-type": "application/json"}
    # The size check answers first …
    gateway = variant()
    await gateway.post(COURSES)  # warm: the first request of an app pays for imports
    gc.collect()  # and no collection of the startup objects inside the measure
    started = time.perf_counter()
    response = await gateway.client.post("/graphql", content=body, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 413
    assert elapsed < 0.2  # a generous sanity bound, not a benchmark
    # … and where bodies that large are allowed, the lexer stops at the token limit.
    roomy = variant(max_body_bytes=2_000_000)
    await roomy.post(COURSES)
    gc.collect()
    started = time.perf_counter()
    response = await roomy.client.post("/graphql", content=body, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_MANY_TOKENS"
    assert elapsed < 0.2


async def test_batching_is_off_by_default(variant: Variant) -> None:
    gateway = variant()
    with recorded_statements(gateway) as statements:
        response = await gateway.client.post("/graphql", json=[{"query": COURSES}])
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BATCHING_DISABLED"
    assert statements == []
    single = variant(max_batch=1)  # one operation per batch is no batching either
    response = await single.client.post("/graphql", json=[{"query": COURSES}])
    assert response.json()["errors"][0]["extensions"]["code"] == "BATCHING_DISABLED"


async def test_batching_when_configured(variant: Variant) -> None:
    gateway = variant(max_batch=2)
    two = [{"query": COURSES}, {"query": "{ courses(first: 2) { totalCount } }"}]
    response = await gateway.client.post("/graphql", json=two)
    assert response.status_code == 200
    first, second = response.json()
    assert len(first["data"]["courses"]["edges"]) == 1
    assert second["data"]["courses"]["totalCount"] > 1
    with recorded_statements(gateway) as statements:
        response = await gateway.client.post("/graphql", json=[*two, {"query": COURSES}])
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"] == {"code": "BATCH_TOO_LARGE", "limit": 2}
    assert statements == []
    malformed = await gateway.client.post("/graphql", json=[{"query": COURSES}, 5])
    assert malformed.status_code == 400
    assert malformed.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_each_operation_of_a_batch_has_its_own_disclosure(
    gateway: Gateway, variant: Variant
) -> None:
    batching = variant(max_batch=2)
    token = await gateway.token("support1")
    declared = (
        "query @purpose(name: CUSTOMER_SUPPORT) "
        "{ orders(first: 1) { edges { node { buyerPhone } } } }"
    )
    undeclared = "{ orders(first: 1) { edges { node { buyerPhone } } } }"
    response = await batching.client.post(
        "/graphql",
        json=[{"query": declared}, {"query": undeclared}],
        headers={"authorization": f"Bearer {token}"},
    )
    first, second = response.json()
    assert response.status_code == 200
    assert first["extensions"]["disclosure"]["purpose"] == "CUSTOMER_SUPPORT"
    assert first["extensions"]["disclosure"]["masked"] == ["Order.buyerPhone"]
    assert "errors" not in first
    # staff without a declared purpose: denied, whatever the operation before it declared
    assert second["extensions"]["disclosure"]["purpose"] is None
    assert second["extensions"]["disclosure"]["denied"] == ["Order.buyerPhone"]
    assert second["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"


async def test_limit_errors_name_the_limit_and_no_value(variant: Variant) -> None:
    gateway = variant(max_depth=3)
    payload = await refused(
        gateway,
        '{ course(id: "1") { id } orders(first: 1) { edges { node { buyer { id } } } } }',
        "QUERY_TOO_DEEP",
    )
    error = payload["errors"][0]
    assert error["extensions"] == {"code": "QUERY_TOO_DEEP", "limit": 3}
    assert error["message"] == "depth 4 exceeds the limit of 3"


async def test_limits_hold_for_get_too(variant: Variant) -> None:
    gateway = variant(max_depth=3)
    response = await gateway.client.get(
        "/graphql", params={"query": "{ orders(first: 1) { edges { node { buyer { id } } } } }"}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"


def test_settings_read_the_environment(monkeypatch: Any) -> None:
    for name, value in {
        "MAX_BODY_BYTES": "10",
        "MAX_TOKENS": "11",
        "MAX_DEPTH": "12",
        "MAX_ALIASES": "13",
        "MAX_DIRECTIVES": "14",
        "MAX_ROOT_FIELDS": "15",
        "MAX_COST": "16",
        "MAX_BATCH": "17",
        "CORS_ORIGINS": "https://a.example, https://b.example/",
    }.items():
        monkeypatch.setenv(f"FIELDGATE_{name}", value)
    settings = Settings()
    assert (
        settings.max_body_bytes,
        settings.max_tokens,
        settings.max_depth,
        settings.max_aliases,
        settings.max_directives,
        settings.max_root_fields,
        settings.max_cost,
        settings.max_batch,
    ) == (10, 11, 12, 13, 14, 15, 16, 17)
    assert settings.cors_allowed_origins == ("https://a.example", "https://b.example")
