"""Exact lookup by ID number through the blind index, and ID numbers written sealed."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select

from fieldgate.crypto.keyring import Keyring
from fieldgate.demo.checksums import mod11_2_check_char
from fieldgate.models import Consent, Order, User
from tests.gateway import Gateway

users = User.__table__  # type: ignore[attr-defined]
orders = Order.__table__  # type: ignore[attr-defined]
consents = Consent.__table__  # type: ignore[attr-defined]

LOOKUP = (
    "query Lookup($n: String!) @purpose(name: IDENTITY_VERIFICATION) "
    "{ userByIdNumber(idNumber: $n) { id realName idNumber } }"
)


def keyring_of(gateway: Gateway) -> Keyring:
    keyring = gateway.services.keyring
    assert keyring is not None
    return keyring


async def stored_user(gateway: Gateway, username: str) -> dict[str, Any]:
    async with gateway.services.engine.connect() as conn:
        row = (await conn.execute(select(users).where(users.c.username == username))).mappings()
        return dict(row.one())


async def id_number_of(gateway: Gateway, username: str) -> str:
    """The user's real ID number, opened from what is stored."""
    stored = await stored_user(gateway, username)
    return keyring_of(gateway).decrypt(stored["id_number"])


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in payload.get("errors", [])]


async def test_verification_officer_finds_alice_by_her_id_number(gateway: Gateway) -> None:
    alice = await stored_user(gateway, "alice")
    number = await id_number_of(gateway, "alice")
    assert alice["id_number"] != number and Keyring.is_encrypted(alice["id_number"])

    payload = await gateway.gql(LOOKUP, {"n": number}, as_="verifier1")
    assert "errors" not in payload, payload
    found = payload["data"]["userByIdNumber"]
    assert found == {"id": str(alice["id"]), "realName": alice["real_name"], "idNumber": number}
    # written with spaces, or a lowercase check character, it is the same number
    spaced = f" {number[:6]} {number[6:14]} {number[14:].lower()} "
    again = await gateway.gql(LOOKUP, {"n": spaced}, as_="verifier1")
    assert again["data"]["userByIdNumber"] == found


async def test_unknown_numbers_are_not_found(gateway: Gateway) -> None:
    payload = await gateway.gql(LOOKUP, {"n": "110101190001010000"}, as_="verifier1")
    assert payload["data"]["userByIdNumber"] is None
    assert codes(payload) == ["NOT_FOUND"]
    assert "110101190001010000" not in json.dumps(payload)


async def test_other_roles_may_not_look_users_up_by_id_number(gateway: Gateway) -> None:
    number = await id_number_of(gateway, "alice")
    # bob's own ID number is masked to him: he may not look anyone up by one
    as_bob = await gateway.gql(
        "query Q($n: String!) { userByIdNumber(idNumber: $n) { id idNumber } }",
        {"n": number},
        as_="bob",
    )
    # bob's schema may not offer the lookup at all; if it does, the argument is refused
    assert (as_bob["data"] or {}).get("userByIdNumber") is None
    assert codes(as_bob) in (["FORBIDDEN_ARGUMENT"], ["GRAPHQL_VALIDATION_FAILED"])
    anonymous = await gateway.gql(
        "query Q($n: String!) { userByIdNumber(idNumber: $n) { id } }", {"n": number}
    )
    assert (anonymous["data"] or {}).get("userByIdNumber") is None
    assert codes(anonymous) in (["FORBIDDEN_ARGUMENT"], ["GRAPHQL_VALIDATION_FAILED"])
    # a support agent sees every user, but never the ID number: the number is no key for it
    as_support = await gateway.gql(
        "query Q($n: String!) @purpose(name: CUSTOMER_SUPPORT) "
        "{ userByIdNumber(idNumber: $n) { id idNumber } }",
        {"n": number},
        as_="support1",
    )
    assert as_support["data"] is None
    assert codes(as_support) == ["FORBIDDEN_ARGUMENT"]
    for payload in (as_bob, anonymous, as_support):
        assert number not in json.dumps(payload, ensure_ascii=False)


async def test_the_number_is_refused_in_a_url_and_never_logged(
    gateway: Gateway, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    number = await id_number_of(gateway, "alice")
    other = number[:-1] + ("1" if number[-1] != "1" else "2")  # nobody's number
    token = await gateway.token("verifier1")
    with caplog.at_level(logging.DEBUG):
        by_get = await gateway.client.get(
            "/graphql",
            params={"query": LOOKUP, "variables": json.dumps({"n": number})},
            headers={"authorization": f"Bearer {token}", "accept": "application/json"},
        )
        payload = by_get.json()
        assert payload["data"]["userByIdNumber"] is None
        assert codes(payload) == ["BAD_USER_INPUT"]
        missing = await gateway.gql(LOOKUP, {"n": other}, token=token)
        assert codes(missing) == ["NOT_FOUND"]
        found = await gateway.gql(LOOKUP, {"n": number}, token=token)
        assert found["data"]["userByIdNumber"]["idNumber"] == number
        # what uvicorn writes for such a request
        request_line = (str(by_get.url.raw_path, "ascii"), "1.1", 200)
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", *request_line
        )
    assert number not in json.dumps(payload, ensure_ascii=False)
    # the test's own HTTP client logs its URLs; everything else is the server's
    logged = [
        r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    ]
    assert any("GET /graphql?" in line for line in logged)  # the access line was written
    printed = capsys.readouterr()
    for text in [*logged, printed.out, printed.err]:
        assert number not in text
        assert other not in text


async def test_a_profile_id_number_is_sealed_indexed_and_copied_into_orders(
    gateway: Gateway,
) -> None:
    username = f"idn_{secrets.token_hex(4)}"
    token = (
        await gateway.gql(
            "mutation R($u: String!) { register(input: {username: $u, password: "
            '"long-enough-password", phone: "13912345678"}) }',
            {"u": username},
        )
    )["data"]["register"]
    first17 = "".join(str(secrets.randbelow(10)) for _ in range(17))
    number = first17 + mod11_2_check_char(first17)  # a wrong check character is refused
    changed = await gateway.gql(
        'mutation P($n: String!) { updateMyProfile(input: {realName: "测试", idNumber: $n}) '
        "{ idNumber } }",
        {"n": number},
        token=token,
    )
    assert "errors" not in changed, changed
    assert changed["data"]["updateMyProfile"]["idNumber"] != number  # the owner sees it masked

    stored = await stored_user(gateway, username)
    keyring = keyring_of(gateway)
    assert Keyring.is_encrypted(stored["id_number"]) and number not in stored["id_number"]
    assert keyring.decrypt(stored["id_number"]) == number
    assert stored["id_number_index"] == keyring.blind_index(number)

    # verification of an ID number needs the subject's separate consent
    async with gateway.services.engine.begin() as conn:
        await conn.execute(
            insert(consents).values(
                user_id=stored["id"], purpose="IDENTITY_VERIFICATION", granted_at=datetime.now(UTC)
            )
        )
    found = await gateway.gql(LOOKUP, {"n": number}, as_="verifier1")
    assert found["data"]["userByIdNumber"]["id"] == str(stored["id"])
    assert found["data"]["userByIdNumber"]["idNumber"] == number

    course = (await gateway.gql("{ courses(first: 20) { edges { node { id } } } }"))["data"]
    placed = await gateway.gql(
        "mutation O($c: [ID!]!) { placeOrder(input: {courseIds: $c, "
        'deliveryAddress: "北京市海淀区中关村大街1号"}) { id } }',
        {"c": [course["courses"]["edges"][0]["node"]["id"]]},
        token=token,
    )
    assert "errors" not in placed, placed
    async with gateway.services.engine.connect() as conn:
        copied = await conn.scalar(
            select(orders.c.buyer_id_number).where(
                orders.c.id == int(placed["data"]["placeOrder"]["id"])
            )
        )
    assert copied == stored["id_number"]  # the sealed value, as it is

    cleared = await gateway.gql(
        "mutation { updateMyProfile(input: {idNumber: null}) { id } }", token=token
    )
    assert "errors" not in cleared, cleared
    stored = await stored_user(gateway, username)
    assert stored["id_number"] is None and stored["id_number_index"] is None
