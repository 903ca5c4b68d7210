"""The policy kept in the database, changed through one instance and enforced by another.

Two applications run their lifespans on the demo database of the ``gateway`` fixture, with
``FIELDGATE_POLICY_SOURCE=database``; every test starts from an empty ``policy_rules`` (so the
first instance seeds it from the folder) and leaves it empty.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, select
from starlette.applications import Starlette

from fieldgate.app import create_app
from fieldgate.models import PolicyRevision, PolicyRule
from fieldgate.policy_store.database import SEEDED_NOTE, DatabasePolicyStore
from fieldgate.resolvers.context import Services
from fieldgate.settings import Settings
from tests.gateway import Gateway

REDIS_URL = "redis://127.0.0.1:6379/0"
SUPPORT_QUERY = (
    "query @purpose(name: CUSTOMER_SUPPORT) "
    "{ orders(first: 3) { edges { node { orderNo buyerPhone } } } }"
)
DENY_PHONE = "p, support_agent, Order.buyerPhone, *, masked, *, deny"
CHANGE = "mutation($line: String!) { addPolicyRule(line: $line) { version previousVersion revision rules } }"

rules_table = PolicyRule.__table__  # type: ignore[attr-defined]
revisions_table = PolicyRevision.__table__  # type: ignore[attr-defined]


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
async def fresh_rules(gateway: Gateway) -> AsyncIterator[Gateway]:
    """The gateway's database with an empty ``policy_rules``, emptied again afterwards."""
    async with gateway.services.engine.begin() as connection:
        await connection.execute(delete(rules_table))
    yield gateway
    async with gateway.services.engine.begin() as connection:
        await connection.execute(delete(rules_table))


@asynccontextmanager
async def instance(settings: Settings) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """One gateway instance with its lifespan running (watcher, audit writer)."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client


def settings_for(gateway: Gateway, **changes: Any) -> Settings:
    base = gateway.services.settings
    values: dict[str, Any] = {
        "database_url": gateway.database_url,
        "key_dir": base.key_dir,
        "policy_source": "database",
        # staff may ask for a field the changed rule denies them (the engine's answer is
        # under test, not the schema view's)
        "staff_full_schema": True,
        **changes,
    }
    return Settings(**values)


async def gql(
    client: httpx.AsyncClient, query: str, token: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"authorization": f"Bearer {token}"},
    )
    payload: dict[str, Any] = response.json()
    return payload


def services_of(app: Starlette) -> Services:
    services: Services = app.state.services
    return services


async def within(seconds: float, done: Callable[[], Any]) -> float:
    """Wait until ``await done()`` is true; the seconds it took (fails after ``seconds``)."""
    started = time.monotonic()
    while not await done():
        if time.monotonic() - started > seconds:
            pytest.fail(f"not done within {seconds} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


def phones(payload: dict[str, Any]) -> list[Any]:
    return [edge["node"]["buyerPhone"] for edge in payload["data"]["orders"]["edges"]]


@pytest.mark.parametrize("notify", ["polling", "redis"])
async def test_a_change_through_one_instance_is_enforced_by_another_within_a_second(
    fresh_rules: Gateway, notify: str
) -> None:
    gateway = fresh_rules
    if notify == "redis" and not redis_reachable():
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    # with Redis, polling is slowed right down: only the notification can be in time
    changes = {"redis_url": REDIS_URL, "policy_poll_seconds": 30.0} if notify == "redis" else {}
    admin = await gateway.token("admin")
    support = await gateway.token("support1")
    async with (
        instance(settings_for(gateway, **changes)) as (app_a, client_a),
        instance(settings_for(gateway, **changes)) as (app_b, client_b),
    ):
        before = await gql(client_b, SUPPORT_QUERY, support)
        assert phones(before) and all(phones(before))  # masked, but there
        if notify == "redis":
            await asyncio.sleep(0.2)  # B's subscription is made in the background
        changed = await gql(client_a, CHANGE, admin, {"line": DENY_PHONE})
        assert "errors" not in changed, changed
        version = changed["data"]["addPolicyRule"]["version"]
        assert services_of(app_a).policy.version == version

        async def b_denies() -> bool:
            payload = await gql(client_b, SUPPORT_QUERY, support)
            return all(phone is None for phone in phones(payload))

        assert await within(1.0, b_denies) <= 1.0
        assert services_of(app_b).policy.version == version
        denied = await gql(client_b, SUPPORT_QUERY, support)
        assert {e["extensions"]["code"] for e in denied["errors"]} == {"FORBIDDEN_FIELD"}


async def test_the_first_instance_seeds_the_table_from_the_folder(fresh_rules: Gateway) -> None:
    gateway = fresh_rules
    async with instance(settings_for(gateway)) as (app, _):
        store = DatabasePolicyStore(services_of(app).engine)
        stored = await store.read_rules()
        assert stored == services_of(app).policy.rule_lines()
        assert "p, admin, @policy, *, manage, *, allow" in stored
        async with services_of(app).engine.connect() as connection:
            note = (
                await connection.execute(
                    select(revisions_table.c.note).order_by(revisions_table.c.id.desc()).limit(1)
                )
            ).scalar_one()
        assert note == SEEDED_NOTE


async def test_an_invalid_change_is_rejected_and_changes_nothing(fresh_rules: Gateway) -> None:
    gateway = fresh_rules
    admin = await gateway.token("admin")
    async with instance(settings_for(gateway)) as (app, client):
        services = services_of(app)
        version = services.policy.version
        store = DatabasePolicyStore(services.engine)
        rules, revision = await store.read_rules(), await store.newest_revision()
        bad = "p, support_agent, Order.buyerPhone, NO_SUCH_PURPOSE, full, any, allow"
        payload = await gql(client, CHANGE, admin, {"line": bad})
        (error,) = payload["errors"]
        assert error["extensions"]["code"] == "POLICY_INVALID"
        assert any("NO_SUCH_PURPOSE" in p for p in error["extensions"]["problems"])
        replaced = await gql(
            client,
            "mutation($l: [String!]!) { replacePolicy(lines: $l) { version } }",
            admin,
            {"l": ["p, support_agent, Order.buyerPhone, *, full, any, allow"]},
        )
        assert replaced["errors"][0]["extensions"]["code"] == "POLICY_INVALID"
        assert replaced["errors"][0]["extensions"]["problems"]  # roles without anonymous, ...
        assert services.policy.version == version
        assert await store.read_rules() == rules
        assert await store.newest_revision() == revision


async def test_a_reload_that_fails_keeps_the_policy_in_force(fresh_rules: Gateway) -> None:
    gateway = fresh_rules
    support = await gateway.token("support1")
    async with instance(settings_for(gateway)) as (app, client):
        services = services_of(app)
        watcher = services.policy_watcher
        assert watcher is not None
        version = services.policy.version
        store = DatabasePolicyStore(services.engine)
        # rules written by hand, past every check: an unknown act
        broken = [
            *await store.read_rules(),
            "p, support_agent, Order.buyerPhone, *, peek, *, allow",
        ]
        revision = await store.replace(broken, version="hand-written", changed_by="test", note="")

        async def seen() -> bool:
            return watcher.revision >= revision

        await within(2.0, seen)
        assert watcher.reload_failures == 1
        assert services.policy.version == version
        assert all(phones(await gql(client, SUPPORT_QUERY, support)))


async def test_non_admins_cannot_change_or_read_the_policy(fresh_rules: Gateway) -> None:
    gateway = fresh_rules
    support = await gateway.token("support1")
    async with instance(settings_for(gateway)) as (app, client):
        version = services_of(app).policy.version
        for query, variables in [
            (CHANGE, {"line": "p, support_agent, Order.buyerPhone, *, full, any, allow"}),
            ("mutation { reloadPolicy { version } }", None),
            ('mutation { setShadowPolicy(lines: ["g, a, anonymous"]) }', None),
            ("{ shadowReport { coordinate } }", None),
        ]:
            payload = await gql(client, query, support, variables)
            # refused, or not even in the schema this principal sees
            code = payload["errors"][0]["extensions"]["code"]
            assert code in {"FORBIDDEN", "GRAPHQL_VALIDATION_FAILED"}, query
        anonymous = await client.post(
            "/graphql", json={"query": "mutation { reloadPolicy { version } }"}
        )
        # refused as unauthenticated, or not even in the schema an anonymous caller sees
        assert anonymous.json()["errors"][0]["extensions"]["code"] in {
            "UNAUTHENTICATED",
            "GRAPHQL_VALIDATION_FAILED",
        }
        assert services_of(app).policy.version == version
        async with services_of(app).engine.connect() as connection:
            count = (
                await connection.execute(select(func.count()).select_from(rules_table))
            ).scalar()
        assert count == len(services_of(app).policy.rule_lines())


async def test_with_files_the_rules_change_only_through_a_reload(fresh_rules: Gateway) -> None:
    gateway = fresh_rules
    admin = await gateway.token("admin")
    async with instance(settings_for(gateway, policy_source="files")) as (app, client):
        refused = await gql(client, CHANGE, admin, {"line": DENY_PHONE})
        assert refused["errors"][0]["extensions"]["code"] == "CONFLICT"
        reloaded = await gql(client, "mutation { reloadPolicy { version revision } }", admin)
        assert reloaded["data"]["reloadPolicy"]["version"] == services_of(app).policy.version


def candidate_folder(tmp_path: Path, extra: str) -> Path:
    packaged = Settings().policy_dir
    for name in ("model.conf", "purposes.toml", "policy.csv"):
        (tmp_path / name).write_text(
            (packaged / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    with (tmp_path / "policy.csv").open("a", encoding="utf-8") as rules:
        rules.write(f"\n{extra}\n")
    return tmp_path


async def test_shadow_mode_reports_a_known_difference_and_changes_no_response(
    gateway: Gateway, tmp_path: Path
) -> None:
    folder = candidate_folder(tmp_path, DENY_PHONE)
    admin = await gateway.token("admin")
    support = await gateway.token("support1")
    expected = await gateway.gql(SUPPORT_QUERY, token=support)  # the same database, no shadow
    settings = settings_for(gateway, policy_source="files", shadow_policy_dir=folder)
    async with instance(settings) as (_, client):
        first = await gql(client, SUPPORT_QUERY, support)
        second = await gql(client, SUPPORT_QUERY, support)
        assert first["data"] == second["data"] == expected["data"]
        assert "errors" not in first
        report = await gql(
            client,
            "{ shadowReport { coordinate role purpose condition live candidate count } }",
            admin,
        )
        rows = report["data"]["shadowReport"]
        phone = [r for r in rows if r["coordinate"] == "Order.buyerPhone"]
        assert phone and all(r["role"] == "support_agent" for r in phone)
        assert {r["purpose"] for r in phone} == {"CUSTOMER_SUPPORT"}
        assert all(
            r["live"].startswith("MASKED") and r["candidate"].startswith("DENIED") for r in phone
        )
        assert all(r["count"] == 2 for r in phone)
        assert [r for r in rows if r["coordinate"] != "Order.buyerPhone"] == []
        cleared = await gql(client, "mutation { clearShadowPolicy }", admin)
        assert cleared["data"]["clearShadowPolicy"] is True
        assert (await gql(client, "{ shadowReport { count } }", admin))["data"][
            "shadowReport"
        ] == []


async def test_a_shadow_set_through_the_mutation_is_checked(gateway: Gateway) -> None:
    admin = await gateway.token("admin")
    async with instance(settings_for(gateway, policy_source="files")) as (app, client):
        lines = services_of(app).policy.rule_lines()
        bad = await gql(
            client,
            "mutation($l: [String!]!) { setShadowPolicy(lines: $l) }",
            admin,
            {"l": [*lines, "p, support_agent, Order.buyerPhone, *, peek, *, allow"]},
        )
        assert bad["errors"][0]["extensions"]["code"] == "POLICY_INVALID"
        assert services_of(app).live.shadow is None
        good = await gql(
            client,
            "mutation($l: [String!]!) { setShadowPolicy(lines: $l) }",
            admin,
            {"l": [*lines, DENY_PHONE]},
        )
        assert good["data"]["setShadowPolicy"] != services_of(app).policy.version
        assert services_of(app).live.shadow is not None


FOOT_GUNS = {
    "no rule": ("replacePolicy", []),
    "only comments": ("replacePolicy", ["# nothing but a note"]),
    "no manager of @policy": ("removePolicyRule", "p, admin, @policy, *, manage, *, allow"),
    "misspelt field": ("addPolicyRule", "p, support_agent, Order.buyerPhnoe, *, full, *, deny"),
    "unknown type": ("addPolicyRule", "p, support_agent, Invoice.*, *, masked, *, allow"),
}
FOOT_GUN_PROBLEMS = {
    "no rule": "the policy has no rule",
    "only comments": "the policy has no rule",
    "no manager of @policy": "no role may manage @policy",
    "misspelt field": "unknown field 'Order.buyerPhnoe'",
    "unknown type": "unknown type 'Invoice'",
}


@pytest.mark.parametrize("case", sorted(FOOT_GUNS))
async def test_a_change_that_locks_out_or_matches_nothing_is_refused(
    fresh_rules: Gateway, case: str
) -> None:
    gateway = fresh_rules
    admin = await gateway.token("admin")
    mutation, argument = FOOT_GUNS[case]
    name = "lines" if mutation == "replacePolicy" else "line"
    kind = "[String!]!" if mutation == "replacePolicy" else "String!"
    query = f"mutation(${name}: {kind}) {{ {mutation}({name}: ${name}) {{ version }} }}"
    async with instance(settings_for(gateway)) as (app, client):
        services = services_of(app)
        version = services.policy.version
        store = DatabasePolicyStore(services.engine)
        rules, revision = await store.read_rules(), await store.newest_revision()
        payload = await gql(client, query, admin, {name: argument})
        (error,) = payload["errors"]
        assert error["extensions"]["code"] == "POLICY_INVALID"
        assert any(FOOT_GUN_PROBLEMS[case] in p for p in error["extensions"]["problems"])
        assert services.policy.version == version
        assert await store.read_rules() == rules
        assert await store.newest_revision() == revision
        shadow = await gql(
            client,
            "mutation($l: [String!]!) { setShadowPolicy(lines: $l) }",
            admin,
            {"l": [] if mutation != "addPolicyRule" else [*rules, argument]},
        )
        assert shadow["errors"][0]["extensions"]["code"] == "POLICY_INVALID"
        assert services.live.shadow is None


async def test_a_reload_of_rules_without_a_manager_is_refused(fresh_rules: Gateway) -> None:
    gateway = fresh_rules
    admin = await gateway.token("admin")
    async with instance(settings_for(gateway)) as (app, client):
        services = services_of(app)
        store = DatabasePolicyStore(services.engine)
        kept = [line for line in await store.read_rules() if "@policy" not in line]
        await store.replace(kept, version="hand-written", changed_by="test", note="")
        revision = await store.newest_revision()
        payload = await gql(client, "mutation { reloadPolicy { version } }", admin)
        assert payload["errors"][0]["extensions"]["code"] == "POLICY_INVALID"
        assert await store.newest_revision() == revision
