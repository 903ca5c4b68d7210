"""Two real ``fieldgate serve`` processes on loopback, one PostgreSQL database, one Redis.

What one server is told, the other enforces: a policy change within a second, a revoked
token, a withdrawn consent and a shadow candidate on the next request (or tick); a
per-token rate limit is shared between them, and falls back to one limit per server,
disclosing nothing more, while Redis is away. The servers start once for the module, on
a database of their own (migrated and seeded through the CLI); every test puts back what
it changed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from fieldgate.audit.chain import load_audit_key
from fieldgate.authz.shadow import SHADOW_KEY
from fieldgate.crypto.keyring import load_keyring
from fieldgate.identity.signing_key import load_signing_key
from fieldgate.infra.redis import REDIS_FAILURES, redis_client
from fieldgate.settings import Settings
from tests.conftest import DatabaseFactory
from tests.fleet import (
    Fleet,
    RedisProxy,
    Server,
    ShowServerLogs,
    fresh_rate_window,
    jti_of,
    run_cli,
    seconds_until,
    server_environment,
    start_server,
)

pytestmark = pytest.mark.postgres

REDIS = ("127.0.0.1", 6379)
REDIS_DB = 11  # the shadow key lives here; rate-limit keys are per token, so never shared
RATE_LIMIT = 40  # requests per minute per token: above any test's polling, quick to exhaust
SEED = ["--users", "40", "--courses", "10", "--orders", "100", "--tickets", "20", "--seed", "7"]

COURSES = "{ courses(first: 2) { edges { node { title } } } }"
SUPPORT_QUERY = (
    "query @purpose(name: CUSTOMER_SUPPORT) "
    "{ orders(first: 3) { edges { node { orderNo buyerPhone } } } }"
)
SUPPORT_EVERY_ORDER_FIELD = (
    "query @purpose(name: CUSTOMER_SUPPORT) { orders(first: 10) { edges { node { orderNo"
    " status amountCents buyerName buyerPhone buyerIdNumber bankCard deliveryAddress"
    " invoiceTitle invoiceTaxId remarks } } } }"
)
PARTNER_QUERY = (
    "query @purpose(name: DELIVERY) { orders(first: 10) { totalCount edges { node"
    " { orderNo buyerName buyerPhone deliveryAddress } } } }"
)
MARKETING_QUERY = (
    "query @purpose(name: MARKETING) { users(first: 100) { edges { node { id phone email } } } }"
)
DENY_PHONE = "p, support_agent, Order.buyerPhone, *, masked, *, deny"
ADD_RULE = "mutation($line: String!) { addPolicyRule(line: $line) { version } }"
REMOVE_RULE = "mutation($line: String!) { removePolicyRule(line: $line) { version } }"
SET_SHADOW = "mutation($lines: [String!]!) { setShadowPolicy(lines: $lines) }"
SHADOW_REPORT = "{ shadowReport { coordinate role purpose condition live candidate count } }"


async def redis_command(*args: str) -> Any:
    """One command to the real Redis (not through the proxy), in the fleet's database."""
    client = redis_client(f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS_DB}")
    try:
        return await client.execute_command(*args)
    finally:
        await client.aclose()


@pytest.fixture(scope="module")
async def fleet(
    request: pytest.FixtureRequest,
    database_factory: DatabaseFactory,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Fleet]:
    """Two servers on a new seeded PostgreSQL database, policy in the database, rate limits
    and notifications through Redis (behind a proxy), one key folder."""
    url = await database_factory("postgres")  # skips, saying why, without PostgreSQL
    try:
        await redis_command("DEL", SHADOW_KEY)
    except REDIS_FAILURES:
        pytest.skip(f"Redis is not reachable at {REDIS[0]}:{REDIS[1]}: the fleet needs it")
    folder = tmp_path_factory.mktemp("fleet")
    keys = Settings(database_url=url, key_dir=folder / "keys")
    # made once here, so that no two processes race to generate them
    load_signing_key(keys)
    load_keyring(keys)
    load_audit_key(keys)
    proxy = RedisProxy(REDIS)
    proxy.start()
    environment = server_environment(
        {
            "FIELDGATE_DATABASE_URL": url,
            "FIELDGATE_KEY_DIR": str(keys.key_dir),
            "FIELDGATE_POLICY_SOURCE": "database",
            # staff may ask for what a changed rule denies them: the engine is under test
            "FIELDGATE_STAFF_FULL_SCHEMA": "true",
            "FIELDGATE_REDIS_URL": f"redis://127.0.0.1:{proxy.port}/{REDIS_DB}",
            "FIELDGATE_RATE_LIMIT_REQUESTS": str(RATE_LIMIT),
            "FIELDGATE_SHUTDOWN_GRACE_SECONDS": "2",
        }
    )
    servers: list[Server] = []
    fleet = Fleet(servers, proxy, environment, RATE_LIMIT)
    reporter = ShowServerLogs(fleet)
    request.config.pluginmanager.register(reporter)
    try:
        await run_cli(environment, "db", "upgrade")
        await run_cli(environment, "db", "seed", "--demo", *SEED, "--no-progress")
        servers += [start_server(name, environment, folder) for name in ("server-a", "server-b")]
        await asyncio.gather(*(server.wait_ready() for server in servers))
        yield fleet
    finally:
        await asyncio.gather(*(server.stop() for server in servers))
        request.config.pluginmanager.unregister(reporter)
        proxy.close()
        with contextlib.suppress(*REDIS_FAILURES):
            await redis_command("DEL", SHADOW_KEY)


def phones(payload: dict[str, Any]) -> list[Any]:
    return [edge["node"]["buyerPhone"] for edge in payload["data"]["orders"]["edges"]]


async def test_a_policy_change_through_one_server_is_enforced_by_the_other_within_a_second(
    fleet: Fleet,
) -> None:
    a, b = fleet.servers
    admin, support = await fleet.tokens("admin", "support1")
    assert all(phones(await b.gql(SUPPORT_QUERY, support)))  # masked, but there

    async def b_denies() -> bool:
        return all(phone is None for phone in phones(await b.gql(SUPPORT_QUERY, support)))

    async def b_masks() -> bool:
        return all(phones(await b.gql(SUPPORT_QUERY, support)))

    added = await a.gql(ADD_RULE, admin, {"line": DENY_PHONE})
    assert "errors" not in added, added
    try:
        assert await seconds_until(b_denies, limit=1.0) < 1.0
    finally:
        removed = await a.gql(REMOVE_RULE, admin, {"line": DENY_PHONE})
    assert "errors" not in removed, removed
    assert await seconds_until(b_masks, limit=1.0) < 1.0  # the removal travels as fast
    restored_on_a = await a.gql(SUPPORT_QUERY, support)
    assert all(phones(restored_on_a)) and "errors" not in restored_on_a


async def test_a_token_revoked_with_the_cli_is_refused_by_every_server(fleet: Fleet) -> None:
    revoked, kept = await fleet.tokens("bob", "bob")
    me = "{ me { username } }"
    for server in fleet.servers:
        assert (await server.gql(me, revoked))["data"]["me"]["username"] == "bob"
    await fleet.cli("token", "revoke", jti_of(revoked))
    for server in fleet.servers:
        refused = await server.post(me, revoked)
        assert refused.status_code == 401, server.name
        (error,) = refused.json()["errors"]
        assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": "revoked"}
        # only that token: another of the same user still works
        assert (await server.gql(me, kept))["data"]["me"]["username"] == "bob"


async def test_every_token_of_a_subject_revoked_with_the_cli_is_refused_by_every_server(
    fleet: Fleet,
) -> None:
    tokens = await fleet.tokens("bob", "bob", "alice")
    me = "{ me { username } }"
    await fleet.cli("token", "revoke", "--sub", "bob")
    for server in fleet.servers:
        for token in tokens[:2]:
            refused = await server.post(me, token)
            assert refused.status_code == 401, server.name
            assert refused.json()["errors"][0]["extensions"]["reason"] == "revoked"
        assert (await server.gql(me, tokens[2]))["data"]["me"]["username"] == "alice"


async def _set_active(fleet: Fleet, table: str, column: str, name: str, active: bool) -> None:
    engine = create_async_engine(fleet.environment["FIELDGATE_DATABASE_URL"])
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(f"UPDATE {table} SET active = :active WHERE {column} = :name"),
                {"active": active, "name": name},
            )
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("subject", "table", "column", "query"),
    [
        ("sf-express", "partners", "name", PARTNER_QUERY),
        ("support1", "staff", "username", SUPPORT_QUERY),
    ],
)
async def test_a_deactivated_partner_or_staff_member_is_refused_on_the_next_request(
    fleet: Fleet, subject: str, table: str, column: str, query: str
) -> None:
    a, b = fleet.servers
    (token,) = await fleet.tokens(subject)
    assert "errors" not in await b.gql(query, token)
    await _set_active(fleet, table, column, subject, False)
    try:
        for server in (b, a):  # the very next request, on either server
            refused = await server.post(query, token)
            assert refused.status_code == 401, server.name
            (error,) = refused.json()["errors"]
            assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": "inactive"}
    finally:
        await _set_active(fleet, table, column, subject, True)
    assert "errors" not in await a.gql(query, token)  # active again: the same token works


async def test_the_servers_share_one_rate_limit_through_redis(fleet: Fleet) -> None:
    for server in fleet.servers:
        assert (await server.readyz())[1]["checks"]["redis"] == "ok"
    (token,) = await fleet.tokens("alice")
    await fresh_rate_window(needed=10)  # all of this test's requests in one window
    statuses = [
        (await fleet.servers[i % 2].post(COURSES, token)).status_code for i in range(RATE_LIMIT)
    ]
    assert statuses == [200] * RATE_LIMIT
    for server in fleet.servers:  # the next one is refused, whichever server it reaches
        refused = await server.post(COURSES, token)
        assert refused.status_code == 429, server.name
        assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert 1 <= int(refused.headers["retry-after"]) <= 60


async def test_a_consent_withdrawn_through_one_server_holds_on_the_other(fleet: Fleet) -> None:
    a, b = fleet.servers
    alice, marketing = await fleet.tokens("alice", "marketing1")
    alice_id = (await a.gql("{ me { id } }", alice))["data"]["me"]["id"]

    async def contacts_on_b() -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
        payload = await b.gql(MARKETING_QUERY, marketing)
        return {e["node"]["id"]: e["node"] for e in payload["data"]["users"]["edges"]}, payload

    before, _ = await contacts_on_b()
    assert before[alice_id]["phone"] and before[alice_id]["email"]
    others = {i for i, node in before.items() if node["phone"] and i != alice_id}
    assert others, "other users opted in to marketing"

    withdraw = 'mutation { withdrawConsent(purpose: "MARKETING") { purpose active } }'
    assert "errors" not in await a.gql(withdraw, alice)
    try:
        after, payload = await contacts_on_b()  # the very next request
        assert after[alice_id]["phone"] is None and after[alice_id]["email"] is None
        assert {i for i, node in after.items() if node["phone"]} == others
        assert "CONSENT_REQUIRED" in {e["extensions"]["reason"] for e in payload["errors"]}
    finally:
        granted = await a.gql('mutation { grantConsent(purpose: "MARKETING") { purpose } }', alice)
    assert "errors" not in granted, granted
    again, _ = await contacts_on_b()
    assert again[alice_id] == before[alice_id]


async def test_a_shadow_candidate_set_through_one_server_is_compared_by_the_other(
    fleet: Fleet,
) -> None:
    a, b = fleet.servers
    admin, support = await fleet.tokens("admin", "support1")
    live = [line for line in (await fleet.cli("policy", "export", "-")).splitlines() if line]
    expected = await b.gql(SUPPORT_QUERY, support)
    assert (await b.gql(SHADOW_REPORT, admin))["data"]["shadowReport"] == []

    async def b_reports_the_difference() -> bool:
        answer = await b.gql(SUPPORT_QUERY, support)
        assert answer == expected  # responses follow the live policy only
        rows = (await b.gql(SHADOW_REPORT, admin))["data"]["shadowReport"]
        return any(
            r["coordinate"] == "Order.buyerPhone"
            and r["live"].startswith("MASKED")
            and r["candidate"].startswith("DENIED")
            for r in rows
        )

    async def b_stopped() -> bool:
        rows = (await b.gql(SHADOW_REPORT, admin))["data"]["shadowReport"]
        return isinstance(rows, list) and not rows

    shadowed = await a.gql(SET_SHADOW, admin, {"lines": [*live, DENY_PHONE]})
    assert "errors" not in shadowed, shadowed
    try:
        assert await seconds_until(b_reports_the_difference, limit=1.0) < 1.0
    finally:
        cleared = await a.gql("mutation { clearShadowPolicy }", admin)
    assert cleared["data"]["clearShadowPolicy"] is True
    assert await seconds_until(b_stopped, limit=1.0) < 1.0


async def test_without_redis_each_server_limits_alone_and_discloses_nothing_more(
    fleet: Fleet,
) -> None:
    support, partner, user = await fleet.tokens("support1", "sf-express", "bob")
    asked = [(SUPPORT_EVERY_ORDER_FIELD, support), (PARTNER_QUERY, partner)]
    with_redis = [await s.gql(q, t) for s in fleet.servers for q, t in asked]
    assert any(e["extensions"]["code"] == "FORBIDDEN_FIELD" for e in with_redis[0]["errors"])
    fleet.proxy.stop()
    try:
        for server in fleet.servers:
            status, body = await server.readyz()
            assert (status, body["status"], body["checks"]["redis"]) == (
                200,
                "degraded",
                "unreachable",
            )
        assert [await s.gql(q, t) for s in fleet.servers for q, t in asked] == with_redis
        await fresh_rate_window(needed=10)
        for server in fleet.servers:  # each counts on its own: the limit on each
            statuses = [(await server.post(COURSES, user)).status_code for _ in range(RATE_LIMIT)]
            assert statuses == [200] * RATE_LIMIT, server.name
            refused = await server.post(COURSES, user)
            assert refused.status_code == 429 and "retry-after" in refused.headers
    finally:
        fleet.proxy.start()

    async def redis_back() -> bool:
        checks = [(await s.readyz())[1]["checks"]["redis"] for s in fleet.servers]
        return checks == ["ok", "ok"]

    await seconds_until(redis_back, limit=5.0, every=0.2)
