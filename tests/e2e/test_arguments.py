"""Arguments are reads: an argument that filters, searches or looks rows up by a field's
value is decided like a read of that field, before the operation runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fieldgate.models.tables import users
from tests.e2e.test_audit_requests import stored_events
from tests.e2e.test_blind_index import id_number_of
from tests.gateway import Gateway


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in payload.get("errors", [])]


def refused(payload: dict[str, Any], argument: str, field: str) -> dict[str, Any]:
    """The one FORBIDDEN_ARGUMENT error of a refused operation (no data at all)."""
    assert payload["data"] is None, payload
    assert codes(payload) == ["FORBIDDEN_ARGUMENT"], payload
    extensions: dict[str, Any] = payload["errors"][0]["extensions"]
    assert extensions["argument"] == argument and extensions["field"] == field
    return extensions


async def user_id(gateway: Gateway, username: str) -> int:
    async with gateway.services.engine.connect() as conn:
        found = await conn.execute(select(users.c.id).where(users.c.username == username))
        return int(found.scalar_one())


async def test_logistics_may_not_filter_orders_by_status(gateway: Gateway) -> None:
    payload = await gateway.gql(
        'query @purpose(name: DELIVERY) { orders(first: 5, status: "refunded") '
        "{ totalCount edges { node { orderNo buyerPhone } } } }",
        as_="sf-express",
    )
    extensions = refused(payload, "Query.orders(status:)", "Order.status")
    assert extensions["purpose"] == "DELIVERY"
    # paging reads no field: the same list without the filter is served
    plain = await gateway.gql(
        "query @purpose(name: DELIVERY) { orders(first: 5) { edges { node { orderNo } } } }",
        as_="sf-express",
    )
    assert "errors" not in plain and plain["data"]["orders"]["edges"]


async def test_a_filter_variable_does_not_change_the_decision(gateway: Gateway) -> None:
    query = (
        "query Q($s: String) @purpose(name: DELIVERY) "
        "{ orders(first: 5, status: $s) { edges { node { orderNo } } } }"
    )
    for value in ("refunded", None):
        payload = await gateway.gql(query, {"s": value}, as_="sf-express")
        refused(payload, "Query.orders(status:)", "Order.status")


async def test_support_agent_filters_where_it_reads_in_full(gateway: Gateway) -> None:
    courses = await gateway.gql(
        'query @purpose(name: CUSTOMER_SUPPORT) { courses(first: 3, search: "会计") '
        "{ edges { node { title } } } }",
        as_="support1",
    )
    assert "errors" not in courses, courses
    orders = await gateway.gql(
        'query @purpose(name: CUSTOMER_SUPPORT) { orders(first: 3, status: "paid") '
        "{ edges { node { status } } } }",
        as_="support1",
    )
    assert "errors" not in orders, orders
    assert {e["node"]["status"] for e in orders["data"]["orders"]["edges"]} <= {"paid"}
    tickets = await gateway.gql(
        'query @purpose(name: CUSTOMER_SUPPORT) { tickets(first: 3, status: "open") '
        "{ edges { node { status } } } }",
        as_="support1",
    )
    assert "errors" not in tickets, tickets
    # without a purpose Order.status is not disclosed to it: nor may it filter by it
    bare = await gateway.gql(
        '{ orders(first: 3, status: "paid") { edges { node { orderNo } } } }', as_="support1"
    )
    refused(bare, "Query.orders(status:)", "Order.status")


async def test_anyone_searches_the_public_catalogue(gateway: Gateway) -> None:
    payload = await gateway.gql(
        '{ courses(first: 3, search: "考试", category: "会计") { totalCount } }'
    )
    assert "errors" not in payload, payload


async def test_a_user_filters_their_own_orders(gateway: Gateway) -> None:
    payload = await gateway.gql(
        '{ orders(first: 3, status: "paid") { edges { node { status } } } }', as_="alice"
    )
    assert "errors" not in payload, payload


async def test_id_number_lookups_only_for_identity_verification(gateway: Gateway) -> None:
    number = await id_number_of(gateway, "alice")
    lookup = "query Q($n: String!){purpose} {{ userByIdNumber(idNumber: $n) {{ id }} }}"
    allowed = await gateway.gql(
        lookup.format(purpose=" @purpose(name: IDENTITY_VERIFICATION)"),
        {"n": number},
        as_="verifier1",
    )
    assert allowed["data"]["userByIdNumber"]["id"] == str(await user_id(gateway, "alice"))
    cases = [
        ("verifier1", ""),
        ("support1", " @purpose(name: CUSTOMER_SUPPORT)"),
        ("insight-1", " @purpose(name: ANALYTICS)"),
        ("dpo", " @purpose(name: COMPLIANCE)"),
        ("alice", ""),  # her own ID number is masked to her
    ]
    for subject, purpose in cases:
        payload = await gateway.gql(lookup.format(purpose=purpose), {"n": number}, as_=subject)
        refused(payload, "Query.userByIdNumber(idNumber:)", "User.idNumber")


async def test_analytics_looks_users_up_by_pseudonym_only(gateway: Gateway) -> None:
    listed = await gateway.gql(
        "query @purpose(name: ANALYTICS) { users(first: 1) { edges { node { id } } } }",
        as_="insight-1",
    )
    pseudonym = listed["data"]["users"]["edges"][0]["node"]["id"]
    assert pseudonym.startswith("p_")
    query = "query Q($id: ID!) @purpose(name: ANALYTICS) { user(id: $id) { id gender } }"
    found = await gateway.gql(query, {"id": pseudonym}, as_="insight-1")
    assert found["data"]["user"]["id"] == pseudonym, found
    # a raw id is not a key for it: nothing maps raw ids to pseudonyms
    for raw in ("1", str(await user_id(gateway, "alice"))):
        payload = await gateway.gql(query, {"id": raw}, as_="insight-1")
        assert payload["data"]["user"] is None and codes(payload) == ["NOT_FOUND"]


async def test_ids_are_keys_where_they_are_disclosed(gateway: Gateway) -> None:
    alice = await user_id(gateway, "alice")
    payload = await gateway.gql(
        "query Q($id: ID!) @purpose(name: CUSTOMER_SUPPORT) { user(id: $id) { id } }",
        {"id": str(alice)},
        as_="support1",
    )
    assert payload["data"]["user"]["id"] == str(alice), payload
    # logistics receives no user ids at all: its view has no such lookup, or it is refused
    denied = await gateway.gql(
        'query @purpose(name: DELIVERY) { user(id: "1") { id } }', as_="sf-express"
    )
    assert denied["data"] is None
    assert codes(denied) in (["FORBIDDEN_ARGUMENT"], ["GRAPHQL_VALIDATION_FAILED"])


async def test_the_audit_trail_filters_only_for_the_dpo(gateway: Gateway) -> None:
    query = (
        'query{purpose} {{ auditEvents(first: 1, kind: DENIAL, subjectId: "1") {{ totalCount }} }}'
    )
    dpo = await gateway.gql(query.format(purpose=" @purpose(name: COMPLIANCE)"), as_="dpo")
    assert "errors" not in dpo, dpo
    # without COMPLIANCE nothing of the trail is disclosed, so nothing may be filtered by it
    bare = await gateway.gql(query.format(purpose=""), as_="dpo")
    assert bare["data"] is None and set(codes(bare)) == {"FORBIDDEN_ARGUMENT"}
    assert {e["extensions"]["argument"] for e in bare["errors"]} == {
        "Query.auditEvents(kind:)",
        "Query.auditEvents(subjectId:)",
    }


async def test_a_refused_argument_is_audited_like_a_denial(gateway: Gateway) -> None:
    name = "RefusedStatusFilter"
    payload = await gateway.gql(
        f'query {name} @purpose(name: DELIVERY) {{ orders(first: 1, status: "paid") '
        "{ edges { node { orderNo } } } }",
        as_="sf-express",
    )
    refused(payload, "Query.orders(status:)", "Order.status")
    events = await stored_events(gateway, operation_name=name)
    assert len(events) == 1, events
    event = events[0]
    assert (event["kind"], event["outcome"], event["coordinate"], event["reason"]) == (
        "denial",
        "DENIED",
        "Order.status",
        "FORBIDDEN_ARGUMENT",
    )
    assert event["purpose"] == "DELIVERY" and event["principal_kind"] == "partner"
    assert "Query.orders(status:)" in str(event["detail"])
    assert "paid" not in str(event["detail"])  # the value is never recorded


async def test_the_decision_is_cached_with_the_plan(gateway: Gateway) -> None:
    plans = gateway.services.plans
    query = (
        'query CachedRefusal @purpose(name: DELIVERY) { orders(first: 1, status: "paid") '
        "{ totalCount } }"
    )
    await gateway.gql(query, as_="sf-express")
    hits = plans.hits
    again = await gateway.gql(query, as_="sf-express")
    refused(again, "Query.orders(status:)", "Order.status")
    assert plans.hits == hits + 1


async def test_an_id_number_withheld_by_the_subjects_say_is_no_key(gateway: Gateway) -> None:
    """A verifier's lookup finds only subjects whose ID number it would read in full: one who
    has not consented to identity verification is as absent as an unknown number."""
    from tests.e2e.test_matrix import consents_in_effect

    consented = await consents_in_effect(gateway)
    async with gateway.services.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(users.c.id, users.c.username)
                .where(users.c.id_number.is_not(None), users.c.closed_at.is_(None))
                .order_by(users.c.id)
            )
        ).all()
    without = next(name for uid, name in rows if uid not in consented)
    with_consent = next(name for uid, name in rows if uid in consented)
    lookup = (
        "query Q($n: String!) @purpose(name: IDENTITY_VERIFICATION) "
        "{ userByIdNumber(idNumber: $n) { id } }"
    )
    refused_row = await gateway.gql(
        lookup, {"n": await id_number_of(gateway, without)}, as_="verifier1"
    )
    assert codes(refused_row) == ["NOT_FOUND"], refused_row
    unknown = await gateway.gql(lookup, {"n": "110101190001010000"}, as_="verifier1")
    assert refused_row["errors"][0]["message"] == unknown["errors"][0]["message"]
    found = await gateway.gql(
        lookup, {"n": await id_number_of(gateway, with_consent)}, as_="verifier1"
    )
    assert found["data"]["userByIdNumber"]["id"] == str(await user_id(gateway, with_consent))
