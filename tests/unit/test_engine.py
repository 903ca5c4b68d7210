"""The decision engine on its own: principals, rules and coordinates in, decisions out.

Nothing here parses GraphQL or opens a database: plans are compiled from the coordinates
an operation would select, rows are plain dicts, and paths are plain values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from fieldgate.authz.classification import Catalog, Classification, Level
from fieldgate.authz.conditions import SUBJECT_KEY, conditions_for
from fieldgate.authz.consent import SubjectFacts, facts_of
from fieldgate.authz.decisions import (
    RIGHTS,
    DenialReason,
    Disclosure,
    FieldRule,
    decide_field,
    effective_purpose,
)
from fieldgate.authz.denials import Denial, path_key
from fieldgate.authz.disclosure import DisclosureContext
from fieldgate.authz.explain import explain
from fieldgate.authz.masking import MaskFunction, MaskStrategy
from fieldgate.authz.plans import INDEX, Plan, RowsAt, Selected, Selection, compile_plan
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_loading import load_policy
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.authz.purposes import load_purposes
from fieldgate.errors import PurposeNotAllowed
from fieldgate.settings import PACKAGED_POLICY_DIR

SUPPORT = "CUSTOMER_SUPPORT"
AGENT = Principal(
    kind=PrincipalKind.STAFF, id=7, name="support1", roles=frozenset({"support_agent"})
)
ALICE = Principal(kind=PrincipalKind.USER, id=1, name="alice", roles=frozenset({"user"}))
CLASSIFICATIONS = {
    c.coordinate: c
    for c in (
        Classification(
            "Order.orderNo",
            "order_no",
            Level.PERSONAL,
            purposes=frozenset({"ORDER_FULFILLMENT", SUPPORT, "ANALYTICS"}),
        ),
        Classification(
            "Order.buyerPhone",
            "buyer_phone",
            Level.SENSITIVE,
            MaskStrategy.PHONE,
            frozenset({"DELIVERY", SUPPORT}),
        ),
        Classification(
            "Order.bankCard",
            "bank_card",
            Level.SENSITIVE,
            MaskStrategy.BANK_CARD,
            frozenset({"PAYMENT"}),
        ),
    )
}
CATALOG = Catalog(CLASSIFICATIONS, frozenset({"Order"}), {"OrderConnection": "Order"})
ORDERS = ("orders",)  # a connection: rows at orders.edges[i].node
SELECTED = Selected(
    rows=(RowsAt(ORDERS, "Order", ("edges", INDEX, "node")),),
    fields=tuple(
        (ORDERS, Selection(key, coordinate, CLASSIFICATIONS[coordinate].attribute))
        for key, coordinate in (
            ("orderNo", "Order.orderNo"),
            ("buyerPhone", "Order.buyerPhone"),
            ("card", "Order.bankCard"),  # aliased
            ("bankCard", "Order.bankCard"),
        )
    ),
)


@dataclass(frozen=True)
class At:
    """A response path as a resolver sees it (``ResponsePath``), innermost key first."""

    key: str | int
    prev: At | None = None

    def as_list(self) -> list[str | int]:
        return [*(self.prev.as_list() if self.prev else []), self.key]


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(PACKAGED_POLICY_DIR, load_purposes(PACKAGED_POLICY_DIR))


def plan_for(principal: Principal, purpose: str | None, policy: Policy) -> Plan:
    decided: list[str] = []

    def decide(coordinate: str) -> FieldRule:
        decided.append(coordinate)
        return decide_field(CLASSIFICATIONS[coordinate], principal, purpose, policy)

    plan = compile_plan(SELECTED, purpose=purpose, policy_version=policy.version, decide=decide)
    assert decided == ["Order.orderNo", "Order.buyerPhone", "Order.bankCard"]  # once each
    return plan


def masks(strategy: MaskStrategy, coordinate: str) -> MaskFunction:
    return lambda value: f"{strategy}({value})"


def test_a_plan_is_compiled_from_coordinates(policy: Policy) -> None:
    plan = plan_for(AGENT, SUPPORT, policy)
    producer = plan.producer(ORDERS)
    assert producer is not None and producer.type_name == "Order"
    assert [s.response_key for s in producer.selections] == [
        "orderNo",
        "buyerPhone",
        "card",
        "bankCard",
    ]
    assert producer.readable_attributes() == ["order_no", "buyer_phone"]  # the card is never read
    assert plan.coordinates(Disclosure.MASKED) == ["Order.buyerPhone"]
    assert plan.coordinates(Disclosure.DENIED) == ["Order.bankCard"]


async def test_rows_are_shaped_and_denials_come_back_as_records(policy: Policy) -> None:
    plan = plan_for(AGENT, SUPPORT, policy)
    asked: list[list[int]] = []

    async def load_facts(subjects: list[int]) -> dict[int, SubjectFacts]:
        asked.append(subjects)
        return {s: facts_of(date(1990, 1, 1), [], date(2026, 6, 1)) for s in subjects}

    disclosure = DisclosureContext(
        plan,
        conditions_for(AGENT),
        masks,
        sensitive={"Order.buyerPhone", "Order.bankCard"},
        personal=set(CLASSIFICATIONS),
        load_facts=load_facts,
    )
    rows = [
        {"order_no": f"O{i}", "buyer_phone": "13812345678", SUBJECT_KEY: 10 + i} for i in range(3)
    ]
    shaped = await disclosure.disclose(At("orders"), rows)
    # a PERSONAL value in FULL: the subjects' ages decide whether a child's data is audited
    assert asked == [[10, 11, 12]]
    assert [(row["order_no"], row["buyer_phone"]) for row in shaped] == [
        (f"O{i}", "PHONE(13812345678)") for i in range(3)
    ]
    assert all("bank_card" not in row for row in shaped)
    reason = DenialReason.PURPOSE_NOT_ALLOWED_FOR_FIELD
    assert disclosure.denials() == [
        Denial("Order.bankCard", ["orders", "edges", 0, "node", key], SUPPORT, reason, code, 3)
        for key, code in (("card", "FORBIDDEN_FIELD"), ("bankCard", "FORBIDDEN_FIELD"))
    ]
    assert disclosure.audited == {("Order.bankCard", Disclosure.DENIED): {10, 11, 12}}
    summary = disclosure.summary()
    paths = summary.pop("paths")
    assert summary == {
        "purpose": SUPPORT,
        "masked": ["Order.buyerPhone"],
        "denied": ["Order.bankCard"],
    }
    # where: one entry per selection (the alias too), the rows it applies to
    every = {"rows": [0, 1, 2], "count": 3}
    assert paths == [
        {
            "path": ["orders", "edges", "*", "node", key],
            "field": "Order.bankCard",
            "disclosure": "DENIED",
            "mask": None,
            "reason": reason.value,
            **every,
        }
        for key in ("bankCard", "card")
    ] + [
        {
            "path": ["orders", "edges", "*", "node", "buyerPhone"],
            "field": "Order.buyerPhone",
            "disclosure": "MASKED",
            "mask": "PHONE",
            "reason": None,
            **every,
        }
    ]


def test_a_missing_producer_fails_closed(policy: Policy) -> None:
    disclosure = DisclosureContext(plan_for(AGENT, SUPPORT, policy), conditions_for(AGENT), masks)
    with pytest.raises(Exception, match="could not be planned"):
        disclosure.shape(At("tickets"), [{}])


def test_path_key_drops_list_indices() -> None:
    assert path_key(At("items", At(0, At("node", At(2, At("edges", At("orders"))))))) == (
        "orders",
        "edges",
        "node",
        "items",
    )


def test_effective_purpose(policy: Policy) -> None:
    assert effective_purpose(policy, ALICE, None) == RIGHTS
    assert effective_purpose(policy, AGENT, None) is None
    assert effective_purpose(policy, AGENT, SUPPORT) == SUPPORT
    with pytest.raises(PurposeNotAllowed, match="unknown purpose NOPE"):
        effective_purpose(policy, AGENT, "NOPE")
    with pytest.raises(PurposeNotAllowed, match="not allowed for this principal"):
        effective_purpose(policy, AGENT, "MARKETING")
    # explain shows what would be decided, and only notes the refusal
    assert effective_purpose(policy, AGENT, "MARKETING", check_declarable=False) == "MARKETING"
    narrowed = Principal(
        kind=PrincipalKind.STAFF, id=7, roles=AGENT.roles, purposes=frozenset({"SECURITY"})
    )
    with pytest.raises(PurposeNotAllowed):
        effective_purpose(policy, narrowed, SUPPORT)


def test_explain_decides_the_coordinates_it_is_given(policy: Policy) -> None:
    rows = explain(CATALOG, policy, ["support_agent"], SUPPORT, ["Order.bankCard", "Order.orderNo"])
    assert [(row.field, row.other) for row in rows] == [
        ("Order.bankCard", Disclosure.DENIED),
        ("Order.orderNo", Disclosure.FULL),
    ]


def test_subject_facts_from_plain_data() -> None:
    today = date(2026, 6, 1)
    adult = facts_of(date(1990, 1, 1), [("MARKETING", False)], today)
    assert adult.consents == {"MARKETING"} and not adult.minor and not adult.child
    minor = facts_of(date(2010, 1, 1), [("MARKETING", False), ("RESEARCH", True)], today)
    assert minor.minor and not minor.child
    assert minor.consents == {"RESEARCH"}  # only what a guardian backs is in effect
    assert minor.asked == {"MARKETING", "RESEARCH"}
    assert facts_of(date(2015, 1, 1), [], today).child
    unknown_age = facts_of(None, [("MARKETING", False)], today)
    assert unknown_age.consents == {"MARKETING"} and not unknown_age.minor
