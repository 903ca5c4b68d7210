"""Development and production agree: staff validate against their own view in both, so an
operation gets the same answer in either mode (``FIELDGATE_STAFF_FULL_SCHEMA`` widens it,
in development only)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.gateway import Gateway
from tests.security.conftest import Variant

SUPPORT = (
    "query @purpose(name: CUSTOMER_SUPPORT) "
    "{ orders(first: 2) { edges { node { orderNo buyerPhone bankCard } } } }"
)
SUPPORT_VISIBLE = (
    "query @purpose(name: CUSTOMER_SUPPORT) "
    "{ orders(first: 2) { edges { node { orderNo buyerPhone } } } }"
)
# (partners are held to their registered documents in production: another rule, left out)
OPERATIONS = [
    ("support1", SUPPORT),
    ("support1", SUPPORT_VISIBLE),
    ("dpo", "{ orders(first: 1) { totalCount } }"),
    (
        "finance1",
        "query @purpose(name: INVOICING) { orders(first: 2) { edges { node { invoiceTitle } } } }",
    ),
    ("alice", "{ me { username phone idNumber } }"),
    (None, "{ me { id } }"),
]


@pytest.mark.parametrize(("who", "query"), OPERATIONS)
async def test_the_same_operation_gets_the_same_answer_in_both_modes(
    variant: Variant, production: Callable[..., Gateway], who: str | None, query: str
) -> None:
    development = variant(staff_full_schema=False)
    live = production()
    token = await development.token(who) if who else None
    assert await development.gql(query, token=token) == await live.gql(query, token=token)
    await development.services.engine.dispose()  # its pooled connections: not kept idle


async def test_staff_validate_against_their_view_by_default(variant: Variant) -> None:
    answer = await variant(staff_full_schema=False).gql(SUPPORT, as_="support1")
    assert answer["data"] is None
    assert answer["errors"][0]["message"] == "Cannot query field 'bankCard' on type 'Order'."


async def test_the_setting_widens_development_only(
    gateway: Gateway, production: Callable[..., Gateway]
) -> None:
    assert gateway.services.settings.staff_full_schema  # the tests' gateway widens it
    widened = await gateway.gql(SUPPORT, as_="support1")
    assert widened["data"]["orders"]["edges"]
    assert widened["errors"][0]["extensions"]["code"] == "FORBIDDEN_FIELD"
    live = production(staff_full_schema=True)
    still = await live.gql(SUPPORT, as_="support1")
    assert still["data"] is None
    await live.services.engine.dispose()
