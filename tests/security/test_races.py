"""Every race has one outcome, on both databases: 20 concurrent callers, bounded by timeouts.

Twenty concurrent closes of one account close it once and write one erasure event; a close
racing a login, a token issue or any write to the account leaves nothing personal behind and
no token that still answers; identical registrations and consent grants end in one row and
``CONFLICT``; two policy changes through two instances (each with its own engine) or at once
in one process are both kept. Every test registers users of its own.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import delete, func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError
from starlette.applications import Starlette

from fieldgate.app import create_app
from fieldgate.models.tables import (
    audit_events,
    audit_subjects,
    consents,
    issued_tokens,
    login_events,
    orders,
    policy_rules,
    tickets,
)
from fieldgate.settings import Settings
from tests.gateway import Gateway

CALLERS = 20
RACE_TIMEOUT = 60.0  # seconds for one race of CALLERS requests, SQLite writers queue up
PASSWORD = "a long password"
LOSING = {"ACCOUNT_CLOSED", "UNAUTHENTICATED"}  # a close already claimed; its tokens revoked
AFTER_CLOSE = LOSING | {"NOT_FOUND", "FORBIDDEN"}  # a token issue by the old name, or refused
REGISTER = "mutation($i: RegisterInput!) { register(input: $i) }"
CLOSE = "mutation($p: String!) { closeMyAccount(password: $p) }"
ME = "{ me { id } }"


async def race(calls: list[Awaitable[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Run the calls at once; every answer, within :data:`RACE_TIMEOUT`."""
    return await asyncio.wait_for(asyncio.gather(*calls), RACE_TIMEOUT)


def codes(answers: list[dict[str, Any]]) -> list[str]:
    return [e["extensions"]["code"] for answer in answers for e in answer.get("errors", [])]


class Person:
    """A private user with unique personal values, to look for after the close."""

    def __init__(self) -> None:
        tag = secrets.token_hex(4)
        digits = f"{int(tag, 16) % 10**8:08d}"
        self.username = f"racer_{tag}"
        self.phone = f"139{digits}"
        self.new_phone = f"137{digits}"
        self.email = f"racer.{tag}@163.com"
        self.company = f"公司{tag}"
        self.address = f"北京市海淀区中关村大街{tag}号"
        self.remarks = f"备注{tag}"

    def values(self) -> tuple[str, ...]:
        return (
            self.username,
            self.phone,
            self.new_phone,
            self.email,
            self.company,
            self.address,
            self.remarks,
        )


async def register(gateway: Gateway, person: Person) -> tuple[int, str]:
    """Register ``person``; their user id and token."""
    answer = await gateway.gql(
        REGISTER,
        {
            "i": {
                "username": person.username,
                "password": PASSWORD,
                "phone": person.phone,
                "email": person.email,
            }
        },
    )
    token: str = answer["data"]["register"]
    me = await gateway.gql("{ me { id } }", token=token)
    return int(me["data"]["me"]["id"]), token


async def erasure_events(gateway: Gateway, user_id: int) -> int:
    writer = gateway.services.audit
    assert writer is not None
    await asyncio.wait_for(writer.flush(), 10)
    async with gateway.services.engine.connect() as conn:
        found = await conn.scalar(
            select(func.count())
            .select_from(audit_events)
            .join(audit_subjects, audit_subjects.c.seq == audit_events.c.subjects_seq)
            .where(
                audit_subjects.c.user_id == user_id,
                audit_events.c.kind == "rights_request",
                audit_events.c.detail.contains("ERASURE"),
            )
        )
    return int(found or 0)


async def assert_erased(gateway: Gateway, user_id: int, person: Person) -> None:
    """No table holds a personal value of ``person``; no row of the account keeps one."""
    async with gateway.services.engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        for table in tables:
            for row in (await conn.execute(text(f"SELECT * FROM {table}"))).all():
                flat = " ".join(str(v) for v in row)
                for value in person.values():
                    assert value not in flat, f"{table} still holds a personal value"
        for table in (login_events, consents):
            count = await conn.scalar(
                select(func.count()).select_from(table).where(table.c.user_id == user_id)
            )
            assert count == 0, f"{table.name} still holds rows of the closed account"
        personal_orders = await conn.scalar(
            select(func.count())
            .select_from(orders)
            .where(
                orders.c.user_id == user_id,
                (orders.c.buyer_phone.is_not(None))
                | (orders.c.delivery_address.is_not(None))
                | (orders.c.remarks.is_not(None)),
            )
        )
        assert personal_orders == 0
        contact = await conn.scalar(
            select(func.count())
            .select_from(tickets)
            .where(
                tickets.c.user_id == user_id,
                tickets.c.contact_phone.is_not(None) | tickets.c.contact_email.is_not(None),
            )
        )
        assert contact == 0
        open_tokens = await conn.scalar(
            select(func.count())
            .select_from(issued_tokens)
            .where(
                issued_tokens.c.subject == f"user:{user_id}", issued_tokens.c.revoked_at.is_(None)
            )
        )
        assert open_tokens == 0


async def assert_no_token_answers(gateway: Gateway, tokens: list[str]) -> None:
    for token in tokens:
        response = await gateway.post(ME, token=token)
        assert response.status_code == 401, response.text


async def test_concurrent_closes_close_once_with_one_erasure_event(gateway: Gateway) -> None:
    person = Person()
    user_id, token = await register(gateway, person)
    answers = await race([gateway.gql(CLOSE, {"p": PASSWORD}, token=token) for _ in range(CALLERS)])
    closed = [a for a in answers if (a.get("data") or {}).get("closeMyAccount") is True]
    assert len(closed) == 1, answers
    assert set(codes(answers)) <= LOSING and len(codes(answers)) == CALLERS - 1, codes(answers)
    assert await erasure_events(gateway, user_id) == 1
    await assert_erased(gateway, user_id, person)


def _racer(
    kind: str, gateway: Gateway, person: Person, token: str, admin: str
) -> Callable[[int], Awaitable[dict[str, Any]]]:
    """One write (or sign-in) of ``kind`` on the account, the ``n``-th of the race."""
    purposes = ["MARKETING", "PERSONALISATION", "RESEARCH", "CROSS_BORDER"]
    documents: dict[str, tuple[str, Callable[[int], dict[str, Any]], str | None]] = {
        "login": (
            "mutation($u: String!, $p: String!) { login(username: $u, password: $p) { token } }",
            lambda n: {"u": person.username, "p": PASSWORD},
            None,
        ),
        "issueToken": (
            "mutation($s: String!) { issueToken(subject: $s) { token } }",
            lambda n: {"s": person.username},
            admin,
        ),
        "updateMyProfile": (
            "mutation($i: ProfileInput!) { updateMyProfile(input: $i) { id } }",
            lambda n: {"i": {"phone": person.new_phone, "company": person.company}},
            token,
        ),
        "grantConsent": (
            "mutation($p: String!) { grantConsent(purpose: $p) { purpose } }",
            lambda n: {"p": purposes[n % len(purposes)]},
            token,
        ),
        "placeOrder": (
            "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { id } }",
            lambda n: {
                "i": {
                    "courseIds": ["1"],
                    "deliveryAddress": person.address,
                    "remarks": person.remarks,
                }
            },
            token,
        ),
        "openTicket": (
            "mutation($i: OpenTicketInput!) { openTicket(input: $i) { id } }",
            lambda n: {
                "i": {
                    "subject": "退款",
                    "body": f"请回电 {person.new_phone}",
                    "contactPhone": person.new_phone,
                    "contactEmail": person.email,
                }
            },
            token,
        ),
    }
    document, variables, as_token = documents[kind]

    def call(n: int) -> Awaitable[dict[str, Any]]:
        return gateway.gql(document, variables(n), token=as_token)

    return call


def _tokens_in(answers: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for answer in answers:
        data = answer.get("data") or {}
        if isinstance(data.get("login"), dict):
            found.append(data["login"]["token"])
        if isinstance(data.get("issueToken"), dict):
            found.append(data["issueToken"]["token"])
    return found


@pytest.mark.parametrize(
    "kind",
    ["login", "issueToken", "updateMyProfile", "grantConsent", "placeOrder", "openTicket"],
)
async def test_a_close_racing_writes_leaves_nothing_personal_and_no_working_token(
    gateway: Gateway, kind: str
) -> None:
    person = Person()
    user_id, token = await register(gateway, person)
    admin = await gateway.token("admin")
    call = _racer(kind, gateway, person, token, admin)
    calls = [call(n) for n in range(CALLERS - 1)]
    calls.insert(
        CALLERS // 2, gateway.gql(CLOSE, {"p": PASSWORD}, token=token)
    )  # some before, some after
    answers = await race(calls)
    assert answers[CALLERS // 2].get("data") == {"closeMyAccount": True}, answers[CALLERS // 2]
    # every refusal is coded: the account closed (or gone by its name), a revoked token,
    # login's one answer, or a consent already granted
    assert set(codes(answers)) <= AFTER_CLOSE | {"CONFLICT"}, codes(answers)
    assert await erasure_events(gateway, user_id) == 1
    await assert_erased(gateway, user_id, person)
    await assert_no_token_answers(gateway, [token, *_tokens_in(answers)])
    later = await call(0)
    assert codes([later]) and set(codes([later])) <= AFTER_CLOSE, later


async def test_identical_registrations_make_one_account(gateway: Gateway) -> None:
    person = Person()
    variables = {"i": {"username": person.username, "password": PASSWORD}}
    answers = await race([gateway.gql(REGISTER, variables) for _ in range(CALLERS)])
    registered = [a for a in answers if isinstance((a.get("data") or {}).get("register"), str)]
    assert len(registered) == 1, answers
    assert codes(answers) == ["CONFLICT"] * (CALLERS - 1)


async def test_identical_consent_grants_make_one_active_consent(gateway: Gateway) -> None:
    person = Person()
    user_id, token = await register(gateway, person)
    grant = 'mutation { grantConsent(purpose: "MARKETING") { purpose active } }'
    answers = await race([gateway.gql(grant, token=token) for _ in range(CALLERS)])
    assert codes(answers) == ["CONFLICT"] * (CALLERS - 1), codes(answers)
    async with gateway.services.engine.connect() as conn:
        active = await conn.scalar(
            select(func.count())
            .select_from(consents)
            .where(consents.c.user_id == user_id, consents.c.withdrawn_at.is_(None))
        )
    assert active == 1


async def test_the_database_refuses_a_second_active_consent(gateway: Gateway) -> None:
    # the last word, whatever a resolver does: the partial unique index
    user_id, _ = await register(gateway, Person())
    row = {"user_id": user_id, "purpose": "RESEARCH", "guardian_consent": False}
    async with gateway.services.engine.begin() as conn:
        await conn.execute(insert(consents).values(granted_at=func.now(), **row))
        await conn.execute(
            insert(consents).values(granted_at=func.now(), withdrawn_at=func.now(), **row)
        )
    with pytest.raises(IntegrityError):
        async with gateway.services.engine.begin() as conn:
            await conn.execute(insert(consents).values(granted_at=func.now(), **row))


# Two policy changes: through two instances on one database, and at once in one process.
CHANGE = "mutation($line: String!) { addPolicyRule(line: $line) { revision } }"
RULES = (
    "p, support_agent, Order.remarks, *, masked, *, deny",
    "p, support_agent, Order.invoiceTitle, *, masked, *, deny",
    "p, finance, Order.remarks, *, masked, *, deny",
    "p, finance, Order.invoiceTitle, *, masked, *, deny",
)


@pytest.fixture
async def fresh_rules(gateway: Gateway) -> AsyncIterator[Gateway]:
    """An empty ``policy_rules`` (the first instance seeds it), emptied again afterwards."""
    async with gateway.services.engine.begin() as connection:
        await connection.execute(delete(policy_rules))
    yield gateway
    async with gateway.services.engine.begin() as connection:
        await connection.execute(delete(policy_rules))


@asynccontextmanager
async def instance(gateway: Gateway) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """One more instance on the gateway's database, with its own engine and lifespan."""
    base = gateway.services.settings
    settings = Settings(
        database_url=gateway.database_url, key_dir=base.key_dir, policy_source="database"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield app, client


async def add_rule(client: httpx.AsyncClient, token: str, line: str) -> dict[str, Any]:
    response = await client.post(
        "/graphql",
        json={"query": CHANGE, "variables": {"line": line}},
        headers={"authorization": f"Bearer {token}"},
    )
    answer: dict[str, Any] = response.json()
    return answer


async def stored_rules(gateway: Gateway) -> set[str]:
    async with gateway.services.engine.connect() as conn:
        rows = (await conn.execute(select(policy_rules))).mappings().all()
    return {", ".join(v for v in (r["ptype"], *(r[f"v{i}"] for i in range(6))) if v) for r in rows}


async def test_policy_changes_through_two_instances_are_both_kept(fresh_rules: Gateway) -> None:
    gateway = fresh_rules
    admin = await gateway.token("admin")
    async with instance(gateway) as (_, client_a), instance(gateway) as (_, client_b):
        answers = await race(
            [add_rule(client_a if n % 2 else client_b, admin, line) for n, line in enumerate(RULES)]
        )
    assert all("errors" not in a for a in answers), answers
    assert len({a["data"]["addPolicyRule"]["revision"] for a in answers}) == len(RULES)
    assert set(RULES) <= await stored_rules(gateway)


async def test_two_policy_changes_at_once_in_one_process_both_succeed(
    fresh_rules: Gateway,
) -> None:
    gateway = fresh_rules
    admin = await gateway.token("admin")
    async with instance(gateway) as (_, client):
        answers = await race([add_rule(client, admin, line) for line in RULES[:2]])
    assert all("errors" not in a for a in answers), answers
    assert set(RULES[:2]) <= await stored_rules(gateway)
