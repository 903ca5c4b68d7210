"""Re-identification checks of what the analytics partner receives, on the full demo.

Over every row the analytics partner (insight-1) can read, every field its schema offers,
page by page: no demo user is unique on its quasi-identifiers (birth year, gender,
region), and no identifier it receives (ids, cursors) equals one another partner
(sf-express, merchant-1, unionpay) receives. Course ids are left out of the comparison:
they are the public catalogue's, the same for the anonymous caller. After
``fieldgate keys rotate --pseudonyms`` its pseudonyms and cursors change, and the old
ones no longer resolve.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from fieldgate.app import create_app
from fieldgate.cli import app as cli
from fieldgate.crypto.keyring import load_keyring
from fieldgate.demo.seed import seed_demo
from fieldgate.infra.db import create_engine
from fieldgate.infra.migrate import upgrade
from fieldgate.models.tables import orders, users
from fieldgate.settings import PACKAGED_POLICY_DIR, Settings
from tests.conftest import DatabaseFactory
from tests.e2e.test_matrix import selection, view_of
from tests.gateway import Gateway

# The demo's 1,000 users (fewer orders and tickets than `db seed --demo`, to stay quick).
FULL_DEMO = {"users": 1000, "courses": 50, "orders": 1500, "tickets": 20}
QUASI_IDENTIFIERS = ("birthDate", "gender", "region")
PARTNERS = {
    "insight-1": ("ANALYTICS",),
    "sf-express": ("DELIVERY",),
    "merchant-1": ("ORDER_FULFILLMENT", "CUSTOMER_SUPPORT"),
    "unionpay": ("PAYMENT",),
}
ROOTS = {"users": "User", "orders": "Order", "tickets": "SupportTicket"}


async def start(url: str, key_dir: Path, policy_dir: Path = PACKAGED_POLICY_DIR) -> Gateway:
    settings = Settings(
        database_url=url,
        key_dir=key_dir,
        policy_dir=policy_dir,
        rate_limit_requests=10**6,  # reading everything is the point here
        rate_limit_cost=10**9,
    )
    app = create_app(settings)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    return Gateway(app, client, url)


async def stop(gateway: Gateway) -> None:
    await gateway.client.aclose()
    if gateway.services.audit is not None:
        await gateway.services.audit.close()
    await gateway.services.engine.dispose()


@pytest.fixture(scope="module")
async def demo_url(database_factory: DatabaseFactory) -> str:
    url = await database_factory("sqlite")
    await asyncio.to_thread(upgrade, url)
    return url


@pytest.fixture(scope="module")
async def demo(
    demo_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Gateway, Path]]:
    """The gateway on the full demo, with a key folder of its own (rotated by a test)."""
    key_dir = tmp_path_factory.mktemp("reidentification-keys")
    engine = create_engine(demo_url)
    try:
        keyring = load_keyring(Settings(key_dir=key_dir))
        await seed_demo(engine, keyring=keyring, seed=42, progress=False, **FULL_DEMO)
    finally:
        await engine.dispose()
    gateway = await start(demo_url, key_dir)
    yield gateway, key_dir
    await stop(gateway)


async def read_everything(gateway: Gateway, partner: str, purpose: str) -> dict[str, list[Any]]:
    """Every page of every list root the partner's schema offers: root -> nodes, with each
    page's cursors under ``root + ' cursors'``."""
    token = await gateway.token(partner)
    view = view_of(gateway, token)
    assert view.query_type is not None
    found: dict[str, list[Any]] = {}
    for root, type_name in ROOTS.items():
        if root not in view.query_type.fields:
            continue
        query = (
            f"query Everything($after: String) @purpose(name: {purpose}) {{ {root}(first: 100,"
            f" after: $after) {{ pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{"
            f" {selection(view, type_name)} }} }} }} }}"
        )
        nodes: list[Any] = []
        cursors: list[str] = []
        after = None
        while True:
            response = await gateway.post(query, {"after": after}, token=token)
            payload = response.json()
            assert payload.get("data") is not None, payload
            page = payload["data"][root]
            nodes += [edge["node"] for edge in page["edges"]]
            cursors += [edge["cursor"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        found[root] = nodes
        found[f"{root} cursors"] = cursors
    return found


def identifiers(value: Any, under: str = "") -> Iterator[str]:
    """Every ``id`` in a response, except the public catalogue's (``course { id }``)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "id" and under != "course" and inner is not None:
                yield str(inner)
            else:
                yield from identifiers(inner, key)
    elif isinstance(value, list):
        for inner in value:
            yield from identifiers(inner, under)


def unique_users(nodes: list[dict[str, Any]]) -> int:
    """How many users no other user shares their received quasi-identifiers with."""
    combinations = Counter(tuple(node.get(q) for q in QUASI_IDENTIFIERS) for node in nodes)
    return sum(
        1 for node in nodes if combinations[tuple(node.get(q) for q in QUASI_IDENTIFIERS)] == 1
    )


async def test_without_the_minimum_group_most_demo_users_would_be_unique(
    demo: tuple[Gateway, Path],
) -> None:
    """The risk the checks below remove: on the raw values, most demo users are unique."""
    gateway, _ = demo
    async with gateway.services.engine.connect() as conn:
        rows = (
            await conn.execute(select(users.c.birth_date, users.c.gender, users.c.region))
        ).all()
    keys = Counter((row.birth_date.year, row.gender, row.region) for row in rows)
    assert len(rows) == 1000
    assert sum(1 for count in keys.values() if count == 1) > 500


async def test_no_demo_user_is_unique_to_analytics(demo: tuple[Gateway, Path]) -> None:
    gateway, _ = demo
    received = await read_everything(gateway, "insight-1", "ANALYTICS")
    people = received["users"]
    assert len(people) == 1000  # every user row, nothing left out of the count
    assert unique_users(people) == 0
    # and nothing in its rows is an identifier in the clear
    for node in people:
        assert node["id"].startswith("p_")
        assert node.get("region") in (None, *{n["region"] for n in people if n.get("region")})
    assert all(node["id"].startswith("p_") for node in received["orders"])
    assert all(
        item["id"].startswith("p_") for node in received["orders"] for item in node["items"] or []
    )
    assert all(
        value is None or value[8:] == "01T00:00:00+00:00" or value.endswith("-01T00:00:00")
        for value in (node.get("createdAt") for node in received["orders"])
    )


async def test_analytics_identifiers_match_no_other_partners(demo: tuple[Gateway, Path]) -> None:
    gateway, _ = demo
    analytics = await read_everything(gateway, "insight-1", "ANALYTICS")
    mine = set(identifiers(analytics))
    assert len(mine) > 2500  # users, orders, items, enrollments and every cursor
    for partner, purposes in PARTNERS.items():
        if partner == "insight-1":
            continue
        for purpose in purposes:
            theirs = set(identifiers(await read_everything(gateway, partner, purpose)))
            assert theirs, f"{partner} received nothing to compare with"
            assert not mine & theirs, f"analytics shares identifiers with {partner}/{purpose}"
    # nor are any of its identifiers or cursors the raw ids of the rows
    async with gateway.services.engine.connect() as conn:
        raw = {str(i) for i in (await conn.execute(select(orders.c.id))).scalars()}
    assert not mine & raw


async def test_with_a_smaller_k_received_combinations_are_still_never_unique(
    demo_url: str, demo: tuple[Gateway, Path], tmp_path: Path
) -> None:
    """k = 2 on the same data: some quasi-identifiers are received, none of them unique."""
    _, key_dir = demo
    policy = tmp_path / "policy"
    shutil.copytree(PACKAGED_POLICY_DIR, policy)
    toml = policy / "purposes.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("k = 10", "k = 2"), "utf-8")
    gateway = await start(demo_url, key_dir, policy)
    try:
        people = (await read_everything(gateway, "insight-1", "ANALYTICS"))["users"]
    finally:
        await stop(gateway)
    received = [node for node in people if node.get("gender") is not None]
    assert 100 < len(received) < len(people)  # some shown, the unique ones withheld
    assert all(node["birthDate"].endswith("-01-01") for node in received)
    assert all(node["region"].endswith(("省", "市", "自治区")) for node in received)
    assert unique_users(people) == 0


async def test_rotating_the_pseudonym_keys_changes_every_pseudonym_and_cursor(
    demo: tuple[Gateway, Path],
) -> None:
    gateway, key_dir = demo
    token = await gateway.token("insight-1")
    query = """query($after: String) @purpose(name: ANALYTICS) {
      orders(first: 50, after: $after) { pageInfo { endCursor } edges { node { id } } } }"""
    before = (await gateway.gql(query, token=token))["data"]["orders"]
    environment: dict[str, str | None] = {k: None for k in os.environ if k.startswith("FIELDGATE_")}
    environment |= {
        "FIELDGATE_KEY_DIR": str(key_dir),
        "FIELDGATE_DATABASE_URL": gateway.database_url,
    }
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["keys", "rotate", "--pseudonyms"], env=environment
    )
    assert result.exit_code == 0, result.stderr
    assert "pseudonym period" in result.stderr
    # the running gateway learns the new period on its next request
    after = (await gateway.gql(query, token=token))["data"]["orders"]
    old = [edge["node"]["id"] for edge in before["edges"]]
    new = [edge["node"]["id"] for edge in after["edges"]]
    assert len(new) == len(old) == 50 and not set(old) & set(new)
    # the old pseudonyms resolve to no row any more, and an old cursor is refused
    async with gateway.services.engine.connect() as conn:
        ids = (await conn.execute(select(orders.c.id))).scalars().all()
    pseudonyms = gateway.services.pseudonyms
    current = {pseudonyms.pseudonym_of("partner:insight-1", "Order", i) for i in ids}
    assert set(new) <= current and not set(old) & current
    stale = await gateway.gql(query, {"after": before["pageInfo"]["endCursor"]}, token=token)
    assert stale["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", stale
    # the other recipients' pseudonyms changed with the period too
    courier = await gateway.gql(
        "query @purpose(name: DELIVERY) { orders(first: 1) { edges { cursor } } }",
        as_="sf-express",
    )
    assert courier.get("errors") is None
