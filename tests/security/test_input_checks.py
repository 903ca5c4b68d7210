"""Inputs validated at the edge, by type: the cases the bad-input harness found, one by one.

Each answer is a coded error naming the argument, never ``INTERNAL_SERVER_ERROR``, never a
503, and never the value it refused.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc

from fieldgate.infra.faults import database_fault, refused_input
from fieldgate.resolvers.identifiers import BIGINT_MAX, INTEGER_MAX, row_id
from fieldgate.schema.extensions import without_values
from fieldgate.schema.inputs import REFUSED_CHARACTERS
from tests.gateway import Gateway

PROFILE = "mutation P($i: ProfileInput!) { updateMyProfile(input: $i) { phone } }"


def error_of(payload: dict[str, Any]) -> dict[str, Any]:
    assert payload.get("errors"), payload
    error: dict[str, Any] = payload["errors"][0]
    return error


@pytest.mark.parametrize(
    "raw", ["11111111111111111111", str(INTEGER_MAX + 1), str(2**63), "١", " 1", "1_0", "-1"]
)
async def test_an_id_that_cannot_name_a_row_is_not_found(gateway: Gateway, raw: str) -> None:
    for field in ("user", "order", "course", "ticket"):
        payload = await gateway.gql(
            f"query Q($id: ID!) {{ {field}(id: $id) {{ id }} }}", {"id": raw}, as_="alice"
        )  # alice may look rows up by id (her own rows' ids are hers in full)
        assert error_of(payload)["extensions"]["code"] == "NOT_FOUND", payload


async def test_ids_inside_a_mutation_are_parsed_the_same_way(gateway: Gateway) -> None:
    payload = await gateway.gql(
        'mutation { placeOrder(input: {courseIds: ["99999999999999999999"]}) { id } }',
        as_="alice",
    )
    assert error_of(payload)["extensions"] == {"code": "NOT_FOUND", "argument": "courseIds"}
    payload = await gateway.gql(
        'mutation { replyToTicket(ticketId: "2147483648", body: "hi") { id } }', as_="alice"
    )
    assert error_of(payload)["extensions"] == {"code": "NOT_FOUND", "argument": "ticketId"}


async def test_a_cursor_past_the_column_range_is_bad_input(gateway: Gateway) -> None:
    cursor = base64.urlsafe_b64encode(f"cursor:{INTEGER_MAX + 1}".encode()).decode()
    payload = await gateway.gql(
        "query Q($a: String) { courses(after: $a) { totalCount } }", {"a": cursor}
    )
    assert error_of(payload)["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


@pytest.mark.parametrize("text", ["a\x00b", "\x01", "x\ud800y"])  # JSON escapes a surrogate
async def test_control_characters_and_surrogates_are_refused_before_anything_runs(
    gateway: Gateway, text: str
) -> None:
    document = 'mutation L($u: String!) { login(username: $u, password: "whatever-1") { token } }'
    body = json.dumps({"query": document, "variables": {"u": text}})  # surrogates escaped
    sent = await gateway.client.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    login = sent.json()
    assert login.get("data") is None
    if "\ud800" in text:  # the body is refused as it is read: it is not UTF-8 text
        assert error_of(login)["extensions"]["code"] == "BAD_REQUEST"
        assert REFUSED_CHARACTERS.search(text)
        return
    assert error_of(login)["extensions"] == {"code": "BAD_USER_INPUT", "argument": "username"}
    profile = await gateway.gql(PROFILE, {"i": {"company": text}}, as_="bob")
    assert error_of(profile)["extensions"] == {"code": "BAD_USER_INPUT", "argument": "company"}


async def test_text_is_bounded_as_its_column_is(gateway: Gateway) -> None:
    profile = await gateway.gql(PROFILE, {"i": {"company": "x" * 129}}, as_="bob")
    assert error_of(profile)["extensions"] == {"code": "BAD_USER_INPUT", "argument": "company"}
    response = await gateway.post(
        "query S($s: String) { courses(search: $s) { totalCount } }", {"s": "x" * 96_000}
    )
    assert response.status_code == 200  # bad input, not an outage
    assert error_of(response.json())["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "search",
    }


@pytest.mark.parametrize(
    "change",
    [
        {"phone": "13٠٠٠٠٠٠٠٠٠"},  # Arabic-Indic digits
        {"phone": "१३८००००००००"},  # Devanagari digits
        {"email": "a" * 240 + "@example.com"},
        {"idNumber": "١١٠١٠١١٩٩٠٠٣٠٧١٢٣٤٥٦"[:18]},
        {"idNumber": "110101199003071235"},  # a wrong check character
    ],
)
async def test_formats_accept_ascii_digits_only(gateway: Gateway, change: dict[str, str]) -> None:
    payload = await gateway.gql(PROFILE, {"i": change}, as_="bob")
    error = error_of(payload)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": next(iter(change))}
    assert next(iter(change.values())) not in error["message"]


async def test_a_secret_sent_with_the_wrong_type_is_not_echoed(gateway: Gateway) -> None:
    number = 110101199003071234
    payload = await gateway.gql(
        "query Q($n: String!) @purpose(name: IDENTITY_VERIFICATION) "
        "{ userByIdNumber(idNumber: $n) { id } }",
        {"n": number},
        as_="verifier1",
    )
    assert str(number) not in str(payload)
    assert error_of(payload)["message"] == "Variable '$n' got an invalid value"
    assert without_values("Expected value of type 'String!', found 123.") == (
        "Expected value of type 'String!' (the value given is not one)"
    )


def test_row_ids_are_ascii_numbers_within_the_range() -> None:
    assert row_id("1") == 1 and row_id(str(INTEGER_MAX)) == INTEGER_MAX
    assert row_id(str(INTEGER_MAX + 1)) is None
    assert row_id(str(INTEGER_MAX + 1), BIGINT_MAX) == INTEGER_MAX + 1
    assert [row_id(raw) for raw in ("0", "-1", "١", "1.0", "", True, "1" * 20)] == [None] * 7


def test_database_refusals_of_values_are_coded_and_not_outages() -> None:
    too_big = sa_exc.OperationalError("SELECT", {}, Exception("string or blob too big"))
    assert database_fault(too_big) is None
    assert refused_input(too_big) is not None and refused_input(too_big).code == "BAD_USER_INPUT"
    data = sa_exc.DataError("INSERT", {}, Exception("value out of range"))
    assert refused_input(data) is not None and refused_input(data).code == "BAD_USER_INPUT"
    unique = sa_exc.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))
    assert refused_input(unique) is not None and refused_input(unique).code == "CONFLICT"
    lost = sa_exc.OperationalError("SELECT", {}, Exception("connection refused"))
    assert database_fault(lost) is not None and refused_input(lost) is None
