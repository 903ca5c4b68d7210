"""Token scopes must name the schema; token purposes must be declarable by the token's roles."""

from __future__ import annotations

import pytest

from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_loading import load_policy
from fieldgate.authz.purposes import load_purposes
from fieldgate.authz.token_grants import TokenGrants
from fieldgate.settings import PACKAGED_POLICY_DIR

COORDINATES = frozenset({"Order.orderNo", "Order.buyerPhone", "User.phone"})


@pytest.fixture(scope="module")
def grants() -> TokenGrants:
    policy: Policy = load_policy(PACKAGED_POLICY_DIR, load_purposes(PACKAGED_POLICY_DIR))
    return TokenGrants(COORDINATES, policy)


def test_known_fields_and_types_are_scopes(grants: TokenGrants) -> None:
    assert grants.unknown_scopes(["Order.orderNo", "Order.*", "User:*"]) == []


def test_unknown_fields_and_types_are_named(grants: TokenGrants) -> None:
    scopes = ["Order.buyerPhnoe", "Ordr.*", "Invoice:*", "Order", "*", "Order.orderNo"]
    assert grants.unknown_scopes(scopes) == [
        "*",
        "Invoice:*",
        "Order",
        "Order.buyerPhnoe",
        "Ordr.*",
    ]


@pytest.mark.parametrize(
    ("roles", "purposes", "refused"),
    [
        (["user"], ["RIGHTS", "LEARNING"], []),
        (["user"], ["SECURITY", "RIGHTS"], ["SECURITY"]),
        (["support_agent"], ["MARKETING", "CUSTOMER_SUPPORT"], ["MARKETING"]),
        (["logistics"], ["DELIVERY", "PAYMENT"], ["PAYMENT"]),
        (["finance"], ["PAYMENT"], []),  # a parent's grant covers its children
        ([], ["ACCOUNT"], ["ACCOUNT"]),
    ],
)
def test_purposes_the_roles_may_not_declare_are_named(
    grants: TokenGrants, roles: list[str], purposes: list[str], refused: list[str]
) -> None:
    assert grants.undeclarable(roles, purposes) == refused
