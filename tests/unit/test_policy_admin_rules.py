"""Policy built from lines, the ``manage`` act, shadow differences and the Redis wire."""

from __future__ import annotations

import asyncio
import socket

import pytest

from fieldgate.authz.classification import Catalog
from fieldgate.authz.decisions import Disclosure, FieldRule, Outcome
from fieldgate.authz.masking import MaskStrategy
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_loading import load_policy, policy_from_lines
from fieldgate.authz.purposes import load_purposes
from fieldgate.authz.shadow import differences
from fieldgate.errors import PolicyError
from fieldgate.policy_store.database import rule_line, rule_values
from fieldgate.policy_store.notify import RedisAddress, publish, subscribe
from fieldgate.policy_store.watch import check_policy
from fieldgate.schema import build_schema
from fieldgate.schema.catalog import build_catalog
from fieldgate.settings import PACKAGED_POLICY_DIR

MASKED = Outcome(Disclosure.MASKED, strategy=MaskStrategy.PHONE)
FULL = Outcome(Disclosure.FULL)


@pytest.fixture(scope="module")
def packaged() -> Policy:
    return load_policy(PACKAGED_POLICY_DIR, load_purposes(PACKAGED_POLICY_DIR))


@pytest.fixture(scope="module")
def catalog(packaged: Policy) -> Catalog:
    return build_catalog(build_schema()._schema, packaged.vocabulary)


def test_lines_build_the_same_decisions_as_the_folder(packaged: Policy) -> None:
    again = policy_from_lines(packaged.model_text, packaged.rule_lines(), packaged.vocabulary)
    assert again.rule_lines() == packaged.rule_lines()
    for role in sorted(packaged.roles()):
        assert again.field_grants([role], "Order.buyerPhone", "CUSTOMER_SUPPORT") == (
            packaged.field_grants([role], "Order.buyerPhone", "CUSTOMER_SUPPORT")
        )
    changed = policy_from_lines(
        packaged.model_text,
        [*packaged.rule_lines(), "g, finance, support_agent"],
        packaged.vocabulary,
    )
    assert changed.version != again.version


def test_only_a_role_with_manage_on_policy_may_manage_it(packaged: Policy) -> None:
    assert packaged.may(["admin"], "@policy", "manage")
    assert packaged.may(["support_agent", "admin"], "@policy", "manage")
    assert not packaged.may(["dpo"], "@policy", "manage")
    assert not packaged.may(["support_agent"], "@policy", "manage")
    assert not packaged.may(["no_such_role"], "@policy", "manage")


def test_a_manage_line_is_linted(packaged: Policy) -> None:
    with pytest.raises(PolicyError) as refused:
        policy_from_lines(
            packaged.model_text,
            [*packaged.rule_lines(), "p, dpo, @purpose, COMPLIANCE, manage, any, allow"],
            packaged.vocabulary,
        )
    problems = refused.value.extensions["problems"]
    assert any("a manage line has object" in p and "@policy" in p for p in problems)
    assert any("purpose * and condition *" in p for p in problems)


def test_the_schema_check_lists_every_problem(packaged: Policy, catalog: Catalog) -> None:
    check_policy(catalog, packaged)  # the packaged policy passes
    non_null = next(
        c
        for c, cl in sorted(catalog.classifications.items())
        if not cl.nullable and cl.level.value != "PUBLIC" and c.startswith("Order.")
    )
    denying = policy_from_lines(
        packaged.model_text,
        [*packaged.rule_lines(), f"p, support_agent, {non_null}, *, full, *, deny"],
        packaged.vocabulary,
    )
    with pytest.raises(PolicyError) as refused:
        check_policy(catalog, denying)
    assert refused.value.code == "POLICY_INVALID"
    assert any(non_null in p for p in refused.value.extensions["problems"])


def test_rule_lines_round_trip_through_the_table_columns() -> None:
    values = rule_values(" p,admin , @policy, *, manage, *, allow ")
    assert values == ("p", "admin", "@policy", "*", "manage", "*", "allow")
    assert rule_line([*values[:3], "", "", "", ""]) == "p, admin, @policy"
    assert rule_line(values) == "p, admin, @policy, *, manage, *, allow"


def test_differences_compare_each_row_condition() -> None:
    live = FieldRule("Order.buyerPhone", MASKED)
    candidate = FieldRule("Order.buyerPhone", MASKED, conditional=(("owner", FULL),))  # type: ignore[arg-type]
    found = differences(live, candidate, role="support_agent", purpose="CUSTOMER_SUPPORT")
    assert [(d.condition, d.live, d.candidate) for d in found] == [
        ("owner", "MASKED PHONE", "FULL")
    ]
    assert differences(live, live, role="support_agent", purpose="none") == []


def test_redis_urls_are_read() -> None:
    address = RedisAddress.parse("redis://:s%40cret@cache:6380/2")
    assert (address.host, address.port, address.password, address.db) == (
        "cache",
        6380,
        "s@cret",
        2,
    )
    with pytest.raises(ValueError):
        RedisAddress.parse("rediss://cache")


def _redis_running() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


async def test_a_published_revision_reaches_a_subscriber() -> None:
    if not _redis_running():
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    url = "redis://127.0.0.1:6379/0"
    channel = "fieldgate:policy:test"
    received: list[bytes] = []

    async def listen() -> None:
        async for message in subscribe(url, channel):
            received.append(message)
            return

    task = asyncio.create_task(listen())
    for _ in range(50):  # until the subscription is in place
        await publish(url, "42", channel)
        await asyncio.sleep(0.02)
        if task.done():
            break
    await asyncio.wait_for(task, 2)
    assert received == [b"42"]
