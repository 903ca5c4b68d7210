"""Results of the disclosure engine: errors per selection, extensions, strict mode, cost."""

from __future__ import annotations

from fieldgate.authz.policy_loading import load_policy
from tests.gateway import Gateway

SUPPORT_ORDERS = """
query Support($first: Int!) @purpose(name: CUSTOMER_SUPPORT) {
  orders(first: $first) {
    edges { node { id orderNo buyerPhone deliveryAddress buyerIdNumber bankCard
      items { priceCents course { title } } } }
  }
}
"""


async def test_one_error_per_denied_selection_with_first_path_and_count(
    gateway: Gateway,
) -> None:
    payload = await gateway.gql(
        """query @purpose(name: CUSTOMER_SUPPORT) {
          orders(first: 12) { edges { node { id card: bankCard bankCard again: bankCard } } }
        }""",
        as_="support1",
    )
    errors = payload["errors"]
    assert len(errors) == 3  # three selections of a denied field, not 36 values
    paths = sorted(tuple(e["path"]) for e in errors)
    assert paths == [
        ("orders", "edges", 0, "node", key) for key in sorted(["card", "bankCard", "again"])
    ]
    for error in errors:
        assert error["extensions"] == {
            "code": "FORBIDDEN_FIELD",
            "field": "Order.bankCard",
            "purpose": "CUSTOMER_SUPPORT",
            "reason": "PURPOSE_NOT_ALLOWED_FOR_FIELD",
            "count": 12,
        }
    nodes = [e["node"] for e in payload["data"]["orders"]["edges"]]
    assert all(n["card"] is None and n["bankCard"] is None and n["again"] is None for n in nodes)


async def test_extensions_disclosure_names_masked_and_denied(gateway: Gateway) -> None:
    payload = await gateway.gql(SUPPORT_ORDERS, {"first": 5}, as_="support1")
    disclosure = payload["extensions"]["disclosure"]
    paths = disclosure.pop("paths")
    assert disclosure == {
        "purpose": "CUSTOMER_SUPPORT",
        "masked": ["Order.buyerPhone", "Order.deliveryAddress"],
        "denied": ["Order.bankCard", "Order.buyerIdNumber"],
    }
    edges = payload["data"]["orders"]["edges"]
    phones = [e["node"]["buyerPhone"] for e in edges]
    assert {
        "path": ["orders", "edges", "*", "node", "buyerPhone"],
        "field": "Order.buyerPhone",
        "disclosure": "MASKED",
        "mask": "PHONE",
        "reason": None,
        "count": sum(p is not None for p in phones),
        "rows": [i for i, p in enumerate(phones) if p is not None],
    } in paths
    assert {
        "path": ["orders", "edges", "*", "node", "bankCard"],
        "field": "Order.bankCard",
        "disclosure": "DENIED",
        "mask": None,
        "reason": "PURPOSE_NOT_ALLOWED_FOR_FIELD",
        "count": 5,
        "rows": [0, 1, 2, 3, 4],
    } in paths
    node = edges[0]["node"]
    assert "****" in node["buyerPhone"]
    assert node["items"] and node["items"][0]["course"]["title"]


async def test_strict_mode_fails_the_whole_operation(gateway: Gateway) -> None:
    token = await gateway.token("support1")
    response = await gateway.post(
        SUPPORT_ORDERS, {"first": 5}, token=token, headers={"fieldgate-strict": "1"}
    )
    payload = response.json()
    assert payload["data"] is None
    assert {e["extensions"]["code"] for e in payload["errors"]} == {"FORBIDDEN_FIELD"}
    strict_token = await gateway.token("support1", strict=True)
    assert (await gateway.post(SUPPORT_ORDERS, {"first": 5}, token=strict_token)).json()[
        "data"
    ] is None
    # strict mode changes nothing when nothing is denied
    allowed = await gateway.post(
        "query @purpose(name: CUSTOMER_SUPPORT) { orders(first: 3) { edges { node { orderNo } } } }",
        token=strict_token,
    )
    assert len(allowed.json()["data"]["orders"]["edges"]) == 3


async def test_purpose_checks(gateway: Gateway) -> None:
    refused = await gateway.gql(
        "query @purpose(name: MARKETING) { orders(first: 3) { edges { node { id } } } }",
        as_="support1",
    )
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "PURPOSE_NOT_ALLOWED"
    partner = await gateway.gql(
        "query @purpose(name: CUSTOMER_SUPPORT) { orders(first: 3) { edges { node { id } } } }",
        as_="sf-express",
    )
    assert partner["errors"][0]["extensions"]["code"] == "PURPOSE_NOT_ALLOWED"
    narrowed = await gateway.token("finance1", purposes=["INVOICING"])
    outside = await gateway.gql(
        "query @purpose(name: PAYMENT) { orders(first: 3) { edges { node { id } } } }",
        token=narrowed,
    )
    assert outside["errors"][0]["extensions"]["code"] == "PURPOSE_NOT_ALLOWED"
    variable = await gateway.gql(
        "query($p: Purpose!) @purpose(name: $p) { orders(first: 2) { edges { node { orderNo } } } }",
        {"p": "CUSTOMER_SUPPORT"},
        as_="support1",
    )
    assert all(e["node"]["orderNo"] for e in variable["data"]["orders"]["edges"])


async def test_mutation_payload_follows_the_same_rules(gateway: Gateway) -> None:
    token = await gateway.token("alice")
    payload = await gateway.gql(
        'mutation { openTicket(input: {subject: "物流", body: "没收到教材"}) '
        "{ id subject messages { body } } }",
        token=token,
    )
    assert payload["data"]["openTicket"]["subject"] == "物流"
    assert payload["extensions"]["disclosure"]["purpose"] == "RIGHTS"


async def test_enforce_calls_do_not_grow_with_rows(gateway: Gateway) -> None:
    services = gateway.services
    token = await gateway.token("support1")
    calls = {}
    original = services.policy
    try:
        for first in (10, 100):
            services.live.policy = load_policy(original_dir(gateway), original.vocabulary)
            services.plans.clear()
            before = services.policy.enforce_calls
            response = await gateway.post(SUPPORT_ORDERS, {"first": first}, token=token)
            assert len(response.json()["data"]["orders"]["edges"]) == first
            calls[first] = services.policy.enforce_calls - before
    finally:
        services.live.policy = original
        services.plans.clear()
    assert calls[10] == calls[100] > 0
    # and a cached plan costs no casbin call at all
    before = services.policy.enforce_calls
    await gateway.post(SUPPORT_ORDERS, {"first": 10}, token=token)
    await gateway.post(SUPPORT_ORDERS, {"first": 100}, token=token)
    assert services.policy.enforce_calls - before <= calls[10]
    hits = services.plans.hits
    await gateway.post(SUPPORT_ORDERS, {"first": 50}, token=token)
    assert services.plans.hits == hits + 1
    assert services.policy.enforce_calls - before <= calls[10]


def original_dir(gateway: Gateway):  # type: ignore[no-untyped-def]
    return gateway.services.settings.policy_dir


async def test_skip_and_include_join_the_plan(gateway: Gateway) -> None:
    query = """query($withCard: Boolean!) @purpose(name: CUSTOMER_SUPPORT) {
      orders(first: 3) { edges { node { orderNo bankCard @include(if: $withCard) } } }
    }"""
    token = await gateway.token("support1")
    without = (await gateway.post(query, {"withCard": False}, token=token)).json()
    assert "errors" not in without
    with_card = (await gateway.post(query, {"withCard": True}, token=token)).json()
    assert with_card["errors"][0]["extensions"]["field"] == "Order.bankCard"
    again = (await gateway.post(query, {"withCard": False}, token=token)).json()
    assert "errors" not in again


async def test_disclosure_paths_name_the_rows_masked(gateway: Gateway) -> None:
    """A support agent reads contact phones in full on tickets assigned to them and masked
    on the others: the paths list exactly the masked rows."""
    query = (
        "query @purpose(name: CUSTOMER_SUPPORT) "
        "{ tickets(first: 40) { edges { node { contactPhone } } } }"
    )
    payload = await gateway.gql(query, as_="support1")
    phones = [e["node"]["contactPhone"] for e in payload["data"]["tickets"]["edges"]]
    [entry] = [
        p
        for p in payload["extensions"]["disclosure"]["paths"]
        if p["field"] == "SupportTicket.contactPhone"
    ]
    masked = [i for i, phone in enumerate(phones) if phone is not None and "****" in phone]
    assert masked and len(masked) < len([p for p in phones if p is not None])  # some in full
    assert entry["path"] == ["tickets", "edges", "*", "node", "contactPhone"]
    assert entry["rows"] == masked and entry["disclosure"] == "MASKED"
