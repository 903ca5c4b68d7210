"""Who sees which rows: filtered in SQL, invisible rows exactly as absent as missing ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from fieldgate.authz.principal import ANONYMOUS
from fieldgate.models.tables import orders, partners
from fieldgate.resolvers.sources import SOURCES
from tests.gateway import Gateway

MY_ORDERS = "{ orders(first: 100) { totalCount edges { node { id orderNo } } } }"


def order_ids(payload: dict[str, Any]) -> set[str]:
    return {edge["node"]["id"] for edge in payload["data"]["orders"]["edges"]}


async def test_bob_cannot_see_alices_orders(gateway: Gateway) -> None:
    alice = await gateway.gql(MY_ORDERS, as_="alice")
    bob = await gateway.gql(MY_ORDERS, as_="bob")
    alices, bobs = order_ids(alice), order_ids(bob)
    assert alices and bobs
    assert not alices & bobs
    assert alice["data"]["orders"]["totalCount"] == len(alices)

    one_of_alices = sorted(alices)[0]
    lookup = await gateway.gql(
        "query($id: ID!) { order(id: $id) { id orderNo } }", {"id": one_of_alices}, as_="bob"
    )
    missing = await gateway.gql(
        "query($id: ID!) { order(id: $id) { id orderNo } }", {"id": "999999"}, as_="bob"
    )
    assert lookup["data"] == {"order": None} == missing["data"]
    assert lookup["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    # Invisible and non-existent are indistinguishable, message included.
    assert lookup["errors"][0]["message"] == missing["errors"][0]["message"]
    assert lookup["errors"][0]["extensions"] == missing["errors"][0]["extensions"]


async def test_user_sees_only_own_profile_tickets_and_enrollments(gateway: Gateway) -> None:
    me = await gateway.gql("{ me { id username } }", as_="alice")
    alice_id = me["data"]["me"]["id"]
    assert me["data"]["me"]["username"] == "alice"
    users = await gateway.gql("{ users(first: 100) { edges { node { id } } } }", as_="alice")
    assert [e["node"]["id"] for e in users["data"]["users"]["edges"]] == [alice_id]
    tickets = await gateway.gql("{ tickets(first: 100) { totalCount } }", as_="alice")
    everyone = await gateway.gql(
        "query @purpose(name: CUSTOMER_SUPPORT) { tickets(first: 1) { totalCount } }",
        as_="support1",
    )
    assert 0 < tickets["data"]["tickets"]["totalCount"] < everyone["data"]["tickets"]["totalCount"]


async def test_anonymous_sees_the_catalogue_only(gateway: Gateway) -> None:
    courses = await gateway.gql("{ courses(first: 5) { totalCount edges { node { title } } } }")
    assert courses["data"]["courses"]["totalCount"] > 0
    assert len(courses["data"]["courses"]["edges"]) == 5
    for query in [
        "{ orders(first: 5) { totalCount edges { node { id } } } }",
        "{ users(first: 5) { totalCount edges { node { id } } } }",
        "{ tickets(first: 5) { totalCount edges { node { id } } } }",
    ]:
        payload = await gateway.gql(query)
        # Not even in the anonymous schema; were it there, the row filter would return none.
        assert payload["data"] is None
        assert payload["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "Cannot query field" in payload["errors"][0]["message"]
    anonymous = ANONYMOUS
    services = gateway.services
    source = SOURCES["Order"]
    async with services.engine.connect() as conn:
        visible = await conn.scalar(
            select(func.count())
            .select_from(source.from_clause)
            .where(source.visibility(anonymous, services.policy))
        )
    assert visible == 0


async def test_finance_sees_orders_support_sees_tickets(gateway: Gateway) -> None:
    finance = await gateway.gql(
        "query @purpose(name: ORDER_FULFILLMENT) { orders { totalCount } tickets { totalCount } }",
        as_="finance1",
    )
    assert finance["data"]["orders"]["totalCount"] > 100
    assert finance["data"]["tickets"]["totalCount"] == 0


async def test_logistics_partner_sees_only_orders_routed_to_it(gateway: Gateway) -> None:
    query = "query @purpose(name: DELIVERY) { orders(first: 100) { edges { node { id } } } }"
    routed = order_ids(await gateway.gql(query, as_="sf-express"))
    other = order_ids(await gateway.gql(query, as_="global-logistics"))
    assert routed and other
    assert not routed & other
    all_orders = order_ids(
        await gateway.gql(
            "query @purpose(name: ORDER_FULFILLMENT) { orders(first: 100) { edges { node { id } } } }",
            as_="finance1",
        )
    )
    assert len(routed) < len(all_orders)


ROUTED = (
    "query @purpose(name: DELIVERY) { orders(first: 100) { totalCount edges { node { id } } } }"
)


async def test_logistics_sees_orders_only_while_the_delivery_needs_them(gateway: Gateway) -> None:
    engine = gateway.services.engine
    async with engine.begin() as conn:
        sf = await conn.scalar(select(partners.c.id).where(partners.c.name == "sf-express"))
        routed = (
            await conn.execute(
                select(orders.c.id, orders.c.status, orders.c.delivered_at)
                .where(orders.c.logistics_partner_id == sf)
                .order_by(orders.c.id)
            )
        ).all()
        delivered = [row for row in routed if row.status == "completed"]
        assert {"cancelled", "refunded", "completed"} <= {row.status for row in routed}
        # one order delivered yesterday, one 31 days ago: the policy's 30 days decide
        recent, old = delivered[0], delivered[1]
        now = datetime.now(UTC)
        for row, moment in ((recent, now - timedelta(days=1)), (old, now - timedelta(days=31))):
            await conn.execute(
                update(orders).where(orders.c.id == row.id).values(delivered_at=moment)
            )
    try:
        payload = await gateway.gql(ROUTED, as_="sf-express")
    finally:
        async with engine.begin() as conn:
            for row in (recent, old):
                await conn.execute(
                    update(orders)
                    .where(orders.c.id == row.id)
                    .values(delivered_at=row.delivered_at)
                )
    seen = {int(i) for i in order_ids(payload)}
    expected = {row.id for row in routed if row.status in ("paid", "shipped")} | {recent.id}
    assert payload["data"]["orders"]["totalCount"] == len(expected) <= 100
    assert seen == expected
    statuses = {row.id: row.status for row in routed}
    assert not {statuses[i] for i in seen} & {"cancelled", "refunded", "pending"}
    assert old.id not in seen
