"""Arguments as reads, in the engine alone: a field's rule and a type's row scopes in, the
decision on an argument out (no GraphQL, no database)."""

from __future__ import annotations

import pytest

from fieldgate.authz.arguments import ArgumentRead, ArgumentUse, decide_argument
from fieldgate.authz.classification import Classification, Level
from fieldgate.authz.decisions import DenialReason, Disclosure, FieldRule, Outcome, decide_field
from fieldgate.authz.masking import MaskStrategy
from fieldgate.authz.plans import RowsAt, Selected, compile_plan
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_loading import load_policy
from fieldgate.authz.policy_rules import RowCondition, RowScope
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.authz.purposes import load_purposes
from fieldgate.settings import PACKAGED_POLICY_DIR

FULL = Outcome(Disclosure.FULL)
MASKED = Outcome(Disclosure.MASKED, strategy=MaskStrategy.PHONE)
PSEUDONYM = Outcome(Disclosure.MASKED, strategy=MaskStrategy.PSEUDONYM)
DENIED = Outcome(Disclosure.DENIED, reason=DenialReason.NO_GRANT)
STATUS = ArgumentRead(("orders",), "Query.orders", "status", "Order.status")
USER_ID = ArgumentRead(("user",), "Query.user", "id", "User.id", is_id=True)
ALL = frozenset({RowScope.ALL})
OWNER = frozenset({RowScope.OWNER})
ASSIGNED = frozenset({RowScope.ASSIGNED})


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(PACKAGED_POLICY_DIR, load_purposes(PACKAGED_POLICY_DIR))


def test_full_on_every_row_allows_the_value() -> None:
    decision = decide_argument(STATUS, FieldRule("Order.status", FULL), ALL)
    assert decision.allowed and decision.use is ArgumentUse.VALUE


@pytest.mark.parametrize("outcome", [MASKED, DENIED, PSEUDONYM])
def test_anything_less_than_full_refuses(outcome: Outcome) -> None:
    decision = decide_argument(STATUS, FieldRule("Order.status", outcome), ALL)
    assert not decision.allowed
    assert decision.reason is outcome.reason


def test_a_per_row_full_counts_only_when_every_visible_row_has_it() -> None:
    owner_only = FieldRule("Order.status", DENIED, ((RowCondition.OWNER, FULL),))
    assigned_only = FieldRule("Order.status", DENIED, ((RowCondition.ASSIGNED, FULL),))
    assert decide_argument(STATUS, owner_only, OWNER).allowed  # a user sees own rows only
    assert not decide_argument(STATUS, owner_only, ALL).allowed
    assert not decide_argument(STATUS, owner_only, OWNER | ALL).allowed
    assert decide_argument(STATUS, assigned_only, ASSIGNED).allowed
    assert not decide_argument(STATUS, assigned_only, ALL).allowed  # a support agent
    assert not decide_argument(STATUS, assigned_only, OWNER).allowed
    assert not decide_argument(STATUS, owner_only, frozenset()).allowed


def test_a_pseudonymous_id_is_a_key_by_pseudonym_only() -> None:
    decision = decide_argument(USER_ID, FieldRule("User.id", PSEUDONYM), ALL)
    assert decision.use is ArgumentUse.PSEUDONYM
    # another field masked by pseudonym is still no key
    model = ArgumentRead(("devices",), "Query.devices", "model", "Device.model")
    assert not decide_argument(model, FieldRule("Device.model", PSEUDONYM), ALL).allowed
    # nor is an id masked otherwise
    assert not decide_argument(USER_ID, FieldRule("User.id", MASKED), ALL).allowed


def test_the_plan_decides_each_argument_once_with_the_packaged_policy(policy: Policy) -> None:
    status = Classification(
        "Order.status", "status", Level.PERSONAL, purposes=frozenset({"DELIVERY"})
    )
    logistics = Principal(
        kind=PrincipalKind.PARTNER, id=3, name="sf-express", roles=frozenset({"logistics"})
    )
    decided: list[str] = []

    def decide(coordinate: str) -> FieldRule:
        decided.append(coordinate)
        return decide_field(status, logistics, "DELIVERY", policy)

    selected = Selected(
        rows=(RowsAt(("orders",), "Order", ()),),
        fields=(),
        arguments=(STATUS, ArgumentRead(("again",), "Query.orders", "status", "Order.status")),
    )
    plan = compile_plan(
        selected,
        purpose="DELIVERY",
        policy_version=policy.version,
        decide=decide,
        row_scopes=lambda type_name: policy.row_scopes(logistics.roles, type_name),
    )
    assert decided == ["Order.status"]
    assert [d.read.name for d in plan.refused_arguments] == ["Query.orders(status:)"] * 2
    assert plan.argument(("orders",), "status") is plan.refused_arguments[0]
    assert plan.refused_arguments[0].reason is DenialReason.NO_GRANT  # outside its view
    assert plan.argument(("orders",), "first") is None
    assert plan.rules == {}  # an argument's field is not among the selected ones
