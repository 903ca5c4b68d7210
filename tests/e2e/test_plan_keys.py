"""Plans are keyed from the parsed document: every spelling of ``@skip``/``@include`` with a
variable makes the variable's value part of the plan's key."""

from __future__ import annotations

import pytest

from tests.gateway import Gateway

SPELLINGS = [
    "@include(if: $x)",
    "@include(, if: $x)",
    "@include(if: $x,)",
    "@include (  if  :  $x )",
    "@ include(if: $x)",
    "@include(# a comment\n if: $x)",
    "@include(\n  if\n  :\n  $x\n)",
]


@pytest.mark.parametrize("spelling", SPELLINGS)
async def test_include_is_keyed_whatever_its_spelling(gateway: Gateway, spelling: str) -> None:
    token = await gateway.token("alice")
    query = f"query Q($x: Boolean!) {{ me {{ username phone {spelling} }} }}"
    without = (await gateway.post(query, {"x": False}, token=token)).json()
    assert without == {"data": {"me": {"username": "alice"}}, **without_extensions(without)}
    with_phone = (await gateway.post(query, {"x": True}, token=token)).json()
    assert "errors" not in with_phone, with_phone
    assert with_phone["data"]["me"]["phone"], with_phone  # not a plan without the phone


@pytest.mark.parametrize("spelling", ["@skip(if: $x)", "@skip(, if: $x)", "@skip(#\nif: $x)"])
async def test_skip_is_keyed_whatever_its_spelling(gateway: Gateway, spelling: str) -> None:
    token = await gateway.token("alice")
    query = f"query Q($x: Boolean!) {{ me {{ username phone {spelling} }} }}"
    skipped = (await gateway.post(query, {"x": True}, token=token)).json()
    assert "phone" not in skipped["data"]["me"]
    shown = (await gateway.post(query, {"x": False}, token=token)).json()
    assert shown["data"]["me"]["phone"], shown


async def test_a_default_value_decides_like_a_given_one(gateway: Gateway) -> None:
    token = await gateway.token("alice")
    query = "query Q($x: Boolean = true) { me { username phone @include(if: $x) } }"
    hidden = (await gateway.post(query, {"x": False}, token=token)).json()
    assert "phone" not in hidden["data"]["me"]
    defaulted = (await gateway.post(query, None, token=token)).json()
    assert "errors" not in defaulted, defaulted
    assert defaulted["data"]["me"]["phone"], defaulted


async def test_fragment_conditions_are_keyed_too(gateway: Gateway) -> None:
    token = await gateway.token("alice")
    query = (
        "query Q($x: Boolean!) { me { ...Contact } } "
        "fragment Contact on User { username phone @include(, if: $x) }"
    )
    without = (await gateway.post(query, {"x": False}, token=token)).json()
    assert "phone" not in without["data"]["me"]
    with_phone = (await gateway.post(query, {"x": True}, token=token)).json()
    assert with_phone["data"]["me"]["phone"], with_phone


def without_extensions(payload: dict[str, object]) -> dict[str, object]:
    return {"extensions": payload["extensions"]} if "extensions" in payload else {}
