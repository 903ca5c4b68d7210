"""Mutations: each all-or-nothing, each payload disclosed like a query."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import func, select

from fieldgate.models import Order, SupportTicket, TicketMessage, User
from tests.gateway import Gateway


async def count(gateway: Gateway, model: Any) -> int:
    async with gateway.services.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(model.__table__)) or 0)


async def courses(gateway: Gateway) -> list[dict[str, Any]]:
    payload = await gateway.gql(
        "{ courses(first: 100) { edges { node { id priceCents shipsMaterials } } } }"
    )
    return [edge["node"] for edge in payload["data"]["courses"]["edges"]]


async def test_register_then_use_the_token(gateway: Gateway) -> None:
    name = f"new_{secrets.token_hex(4)}"
    payload = await gateway.gql(
        "mutation($i: RegisterInput!) { register(input: $i) }",
        {"i": {"username": name, "password": "correct horse", "phone": "13912345678"}},
    )
    token = payload["data"]["register"]
    me = await gateway.gql("{ me { username phone } }", token=token)
    assert me["data"]["me"] == {"username": name, "phone": "13912345678"}
    again = await gateway.gql(
        "mutation($i: RegisterInput!) { register(input: $i) }",
        {"i": {"username": name, "password": "correct horse"}},
    )
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    taken_by_staff = await gateway.gql(
        'mutation { register(input: {username: "support1", password: "long enough"}) }'
    )
    assert taken_by_staff["errors"][0]["extensions"]["code"] == "CONFLICT"


async def test_register_refuses_bad_input_and_writes_nothing(gateway: Gateway) -> None:
    before = await count(gateway, User)
    for variables in (
        {"username": "x", "password": "long enough"},
        {"username": "good_name_1", "password": "short"},
        {"username": "good_name_2", "password": "long enough", "phone": "12345"},
        {"username": "good_name_3", "password": "long enough", "email": "not-mail"},
    ):
        payload = await gateway.gql(
            "mutation($i: RegisterInput!) { register(input: $i) }", {"i": variables}
        )
        assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await count(gateway, User) == before


async def test_update_my_profile(gateway: Gateway) -> None:
    token = await gateway.token("bob")
    changed = await gateway.gql(
        'mutation { updateMyProfile(input: {nickname: "小波", company: "勤学"}) '
        "{ nickname company idNumber } }",
        token=token,
    )
    assert changed["data"]["updateMyProfile"]["nickname"] == "小波"
    assert changed["data"]["updateMyProfile"]["company"] == "勤学"
    # The owner sees their own ID number masked, in the payload as in queries.
    assert "*" in changed["data"]["updateMyProfile"]["idNumber"]
    refused = await gateway.gql(
        'mutation { updateMyProfile(input: {realName: "冒名", nickname: "x"}) { nickname } }',
        token=token,
    )
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    after = await gateway.gql("{ me { nickname realName } }", token=token)
    assert after["data"]["me"]["nickname"] == "小波"  # the refused change changed nothing
    assert after["data"]["me"]["realName"] != "冒名"


async def test_place_order(gateway: Gateway) -> None:
    catalogue = await courses(gateway)
    plain = [c for c in catalogue if not c["shipsMaterials"]][:2]
    token = await gateway.token("alice")
    placed = await gateway.gql(
        "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) "
        "{ id status amountCents bankCard items { priceCents course { id } } } }",
        {"i": {"courseIds": [c["id"] for c in plain]}},
        token=token,
    )
    order = placed["data"]["placeOrder"]
    assert order["status"] == "pending"
    assert order["amountCents"] == sum(c["priceCents"] for c in plain)
    assert sorted(i["course"]["id"] for i in order["items"]) == sorted(c["id"] for c in plain)
    mine = await gateway.gql(
        "query($id: ID!) { order(id: $id) { id } }", {"id": order["id"]}, token=token
    )
    assert mine["data"]["order"]["id"] == order["id"]


async def test_failed_order_changes_nothing(gateway: Gateway) -> None:
    catalogue = await courses(gateway)
    shipped = next(c for c in catalogue if c["shipsMaterials"])
    before = await count(gateway, Order)
    token = await gateway.token("alice")
    no_address = await gateway.gql(
        "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }",
        {"i": {"courseIds": [shipped["id"]]}},
        token=token,
    )
    assert no_address["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    unknown = await gateway.gql(
        "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }",
        {"i": {"courseIds": [shipped["id"], "987654"]}},
        token=token,
    )
    assert unknown["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    anonymous = await gateway.gql(
        "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }",
        {"i": {"courseIds": [shipped["id"]]}},
    )
    # anonymous callers are refused, or do not even see the mutation in their schema
    assert anonymous["errors"][0]["extensions"]["code"] in {
        "UNAUTHENTICATED",
        "GRAPHQL_VALIDATION_FAILED",
    }
    assert await count(gateway, Order) == before


async def test_ticket_conversation(gateway: Gateway) -> None:
    alice = await gateway.token("alice")
    opened = await gateway.gql(
        'mutation { openTicket(input: {subject: "发票问题", body: "请补开发票", '
        'contactPhone: "13800001111"}) { id subject contactPhone messages { body } } }',
        token=alice,
    )
    ticket = opened["data"]["openTicket"]
    assert ticket["contactPhone"] == "13800001111"
    assert ticket["messages"] == [{"body": "请补开发票"}]
    reply = await gateway.gql(
        'mutation($t: ID!) { replyToTicket(ticketId: $t, body: "已处理") { body } }',
        {"t": ticket["id"]},
        as_="support1",
    )
    # support agents read message bodies under CUSTOMER_SUPPORT only: no purpose, no body.
    assert reply["data"]["replyToTicket"] == {"body": None}
    assert reply["errors"][0]["extensions"]["code"] == "PURPOSE_REQUIRED"
    stranger = await gateway.gql(
        'mutation($t: ID!) { replyToTicket(ticketId: $t, body: "hi") { body } }',
        {"t": ticket["id"]},
        as_="bob",
    )
    assert stranger["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    before = await count(gateway, TicketMessage)
    empty = await gateway.gql(
        'mutation { openTicket(input: {subject: " ", body: "x"}) { id } }', token=alice
    )
    assert empty["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await count(gateway, TicketMessage) == before
    assert await count(gateway, SupportTicket) > 0
