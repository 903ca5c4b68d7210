"""A child's data (under 14) is SENSITIVE whatever its field's level: every FULL disclosure
of a child's PERSONAL value is audited, and fails closed when the trail cannot record it;
an adult's PERSONAL values are not audited. The facts that tell a child come in one query
per page, and only for pages that can disclose a PERSONAL value in FULL."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from fieldgate.app import create_app
from fieldgate.audit.events import AuditEvent, AuditKind
from fieldgate.authz.consent import age_on
from fieldgate.authz.disclosure import BORN_KEY
from fieldgate.models import User
from fieldgate.models.tables import audit_events
from fieldgate.settings import Settings
from tests.gateway import Gateway, recorded_statements

users = User.__table__  # type: ignore[attr-defined]

OWN = "query Own { me { id username email phone } }"
LOOKUP = "query($id: ID!) @purpose(name: CUSTOMER_SUPPORT) { user(id: $id) { id username region phone } }"
PAGE = "query Page @purpose(name: CUSTOMER_SUPPORT) { users(first: 100) { edges { node { id username } } } }"


async def a_child(gateway: Gateway) -> tuple[int, str]:
    """A new user aged 13 today (not 14 before a few months): their id and token."""
    name = f"child_{secrets.token_hex(4)}"
    registered = await gateway.gql(
        "mutation($i: RegisterInput!) { register(input: $i) }",
        {"i": {"username": name, "password": "a long password", "email": f"{name}@qq.com"}},
    )
    token: str = registered["data"]["register"]
    today = datetime.now(UTC).date()
    born = today - timedelta(days=13 * 365 + 120)
    assert age_on(born, today) == 13
    async with gateway.services.engine.begin() as conn:
        await conn.execute(
            update(users)
            .where(users.c.username == name)
            .values(birth_date=born, region="北京市", phone="13911112222")
        )
        found = await conn.execute(select(users.c.id).where(users.c.username == name))
        child_id = int(found.scalar_one())
    return child_id, token


async def events_of(gateway: Gateway, request_id: str) -> list[dict[str, Any]]:
    writer = gateway.services.audit
    assert writer is not None
    await asyncio.wait_for(writer.flush(), 10)
    statement = select(audit_events).where(audit_events.c.request_id == request_id)
    async with gateway.services.engine.connect() as conn:
        return [dict(r) for r in (await conn.execute(statement)).mappings()]


def disclosed(events: Sequence[dict[str, Any]]) -> dict[str, set[int]]:
    """FULL disclosures recorded: coordinate -> its data subjects."""
    return {
        e["coordinate"]: {int(s) for s in e["subjects"].split()}
        for e in events
        if e["kind"] == "disclosure"
    }


async def run(
    gateway: Gateway, query: str, token: str, variables: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, set[int]]]:
    rid = f"child-{secrets.token_hex(6)}"
    response = await gateway.post(query, variables, token=token, headers={"x-request-id": rid})
    payload: dict[str, Any] = response.json()
    return payload, disclosed(await events_of(gateway, rid))


async def test_a_childs_personal_values_in_full_are_audited_an_adults_are_not(
    gateway: Gateway,
) -> None:
    child, child_token = await a_child(gateway)
    alice_token = await gateway.token("alice")
    alice = int((await gateway.gql("{ me { id } }", token=alice_token))["data"]["me"]["id"])

    # the child reading their own data: PERSONAL fields audited like the SENSITIVE phone
    payload, events = await run(gateway, OWN, child_token)
    assert payload["data"]["me"]["email"] and payload["data"]["me"]["phone"]
    assert events == {
        "User.username": {child},
        "User.email": {child},
        "User.phone": {child},
    }
    # an adult doing the same: only the SENSITIVE field is audited
    payload, events = await run(gateway, OWN, alice_token)
    assert payload["data"]["me"]["email"]
    assert events == {"User.phone": {alice}}

    # a support agent: username and region FULL (audited for the child), phone MASKED (not)
    support = await gateway.token("support1")
    payload, events = await run(gateway, LOOKUP, support, {"id": str(child)})
    assert payload["data"]["user"]["region"] == "北京市"
    assert payload["data"]["user"]["phone"] == "139****2222"
    assert events == {"User.username": {child}, "User.region": {child}}
    payload, events = await run(gateway, LOOKUP, support, {"id": str(alice)})
    assert payload["data"]["user"]["username"] == "alice"
    assert events == {}

    # the child sees the agent's read in their access log (by role, never by name)
    log = await gateway.gql(
        "{ myAccessLog(first: 50) { edges { node { coordinate outcome principalRoles } } } }",
        token=child_token,
    )
    seen = {
        (n["node"]["coordinate"], n["node"]["outcome"], tuple(n["node"]["principalRoles"]))
        for n in log["data"]["myAccessLog"]["edges"]
    }
    assert ("User.username", "FULL", ("support_agent",)) in seen


async def test_a_page_records_exactly_its_children(gateway: Gateway) -> None:
    child, _ = await a_child(gateway)
    support = await gateway.token("support1")
    with recorded_statements(gateway) as statements:
        payload, events = await run(gateway, PAGE, support)
    listed = {int(e["node"]["id"]) for e in payload["data"]["users"]["edges"]}
    today = datetime.now(UTC).date()
    async with gateway.services.engine.connect() as conn:
        found = await conn.execute(
            select(users.c.id, users.c.birth_date).where(users.c.id.in_(listed))
        )
        born = {row.id: row.birth_date for row in found}
    children = {i for i, b in born.items() if (age_on(b, today) or 99) < 14}
    if child in listed:
        assert child in children
    assert children, "the page holds children"
    assert len(children) < len(listed), "and adults"
    assert events == {"User.username": children}
    # the ages came with the rows: the database is asked only about users without a birth
    # date (registered by other tests), in one query for the page
    undated = {i for i, b in born.items() if b is None}
    assert len([s for s in statements if "consents" in s]) == (1 if undated else 0)


def facts_queries(statements: Sequence[str]) -> int:
    return len([s for s in statements if "consents" in s and "JOIN" in s.upper()])


def with_ages(statements: Sequence[str]) -> int:
    """Statements that select rows together with their subjects' birth dates."""
    return len([s for s in statements if BORN_KEY in s])


@pytest.mark.parametrize(
    ("subject", "query", "facts", "ages"),
    [
        # TicketMessage.body is PERSONAL and FULL: its subjects' ages come with the
        # messages of every ticket, in the one batched query for them
        (
            "support1",
            "query @purpose(name: CUSTOMER_SUPPORT) "
            "{ tickets(first: 40) { edges { node { id messages { body } } } } }",
            0,
            1,
        ),
        # orders and their buyers: each page carries its subjects' ages
        (
            "support1",
            "query @purpose(name: CUSTOMER_SUPPORT) "
            "{ orders(first: 50) { edges { node { orderNo buyer { username } } } } }",
            0,
            2,
        ),
        # nothing PERSONAL in FULL (ids are INTERNAL, the phone MASKED): nothing asked
        (
            "support1",
            "query @purpose(name: CUSTOMER_SUPPORT) "
            "{ users(first: 50) { edges { node { id phone } } } }",
            0,
            0,
        ),
        # consent gates need the subjects' consents too: one facts query for the page
        (
            "marketing1",
            "query @purpose(name: MARKETING) { users(first: 50) { edges { node { id email } } } }",
            1,
            0,
        ),
    ],
)
async def test_facts_are_asked_once_per_page_and_only_when_needed(
    gateway: Gateway, subject: str, query: str, facts: int, ages: int
) -> None:
    token = await gateway.token(subject)
    with recorded_statements(gateway) as statements:
        payload = await gateway.gql(query, token=token)
    assert payload["data"], payload
    assert facts_queries(statements) == facts
    assert with_ages(statements) == ages


class FailingSink:
    async def append(self, events: Sequence[AuditEvent]) -> None:
        raise ConnectionError("the audit database is down")


@pytest.fixture
async def failing_trail(gateway: Gateway, key_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    """Another app on the gateway's database whose audit trail cannot record anything."""
    app = create_app(
        Settings(database_url=gateway.database_url, key_dir=key_dir), audit_sink=FailingSink()
    )
    services = app.state.services
    writer = services.audit
    assert writer is not None
    writer.submit(
        [
            AuditEvent(
                at=datetime.now(UTC),
                kind=AuditKind.DENIAL,
                principal_kind="staff",
                outcome="DENIED",
            )
        ]
    )
    for _ in range(200):
        if not writer.healthy:
            break
        await asyncio.sleep(0.01)
    assert not writer.healthy
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    yield client
    await client.aclose()
    writer.shutdown_grace = 0.1
    await writer.close()
    await services.engine.dispose()


async def test_a_childs_full_value_fails_closed_when_the_trail_cannot_record_it(
    gateway: Gateway, failing_trail: httpx.AsyncClient
) -> None:
    _, child_token = await a_child(gateway)
    query = "query Names { me { username email } }"  # PERSONAL only: SENSITIVE for a child
    headers = {"authorization": f"Bearer {child_token}"}
    refused = (await failing_trail.post("/graphql", json={"query": query}, headers=headers)).json()
    assert refused["data"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["SERVICE_UNAVAILABLE"]
    headers = {"authorization": f"Bearer {await gateway.token('alice')}"}
    served = (await failing_trail.post("/graphql", json={"query": query}, headers=headers)).json()
    assert served["data"]["me"]["username"] == "alice"
