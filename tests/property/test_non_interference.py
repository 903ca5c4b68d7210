"""Non-interference: a response depends on nothing its principal may not read in full.

Hypothesis draws a principal, a purpose and a query with arguments (status filters,
searches, lookups by id and by ID number, audit filters, pagination) over the root fields
of the schema. The same query runs against two databases: the demo data, and a copy in
which every value the principal may not read in full under that purpose is altered
(``tests.property.altered``: denied values changed outright, masked ones only where their
mask hides them, so masked inputs give equal masks). The two responses must be identical,
byte for byte: that is what shows that no argument, count, error or masked value carries
what the principal may not read. The audit trail is off on both sides, so that the
requests leave both databases as they are.

Copies are made as files, so this runs on SQLite: the decisions compared do not depend on
the backend.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLSchema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import make_url

from fieldgate.app import create_app
from fieldgate.audit.events import AuditKind
from fieldgate.authz.decisions import effective_purpose
from fieldgate.authz.principal import ANONYMOUS
from fieldgate.crypto.keyring import load_keyring
from fieldgate.errors import PurposeNotAllowed
from fieldgate.identity.issuance import issue_for_subject
from fieldgate.infra.db import create_engine
from fieldgate.models.tables import courses, orders, tickets, users
from fieldgate.resolvers.context import Services
from fieldgate.schema import build_schema
from fieldgate.settings import Settings
from tests.gateway import seeded_database
from tests.matrix.expectations import ACCOUNTS, cases
from tests.property.altered import alter_for
from tests.property.test_no_leak import fields_strategy

MATRIX = cases()
CONNECTIONS = {
    "users": "User",
    "orders": "Order",
    "tickets": "SupportTicket",
    "courses": "Course",
    "auditEvents": "AuditEventView",
    "myAccessLog": "AccessLogEntry",
}
LOOKUPS = {"user": "User", "order": "Order", "ticket": "SupportTicket", "course": "Course"}
INDEX = st.integers(0, 40)
SCHEMA: GraphQLSchema = build_schema()._schema  # module-level: strategies print short


@dataclass
class Side:
    """One app on one database, with a token per demo account."""

    client: httpx.AsyncClient
    services: Services
    tokens: dict[str, str]

    async def ask(self, role: str, query: str) -> tuple[int, Any]:
        account = ACCOUNTS[role]
        sent = {"content-type": "application/json"}
        if account is not None:
            token = self.tokens[account]
            sent["authorization"] = f"Bearer {token}"
            # a page cursor as this principal receives them (sealed for its recipient)
            codec = self.services.pseudonyms.cursors(self.services.tokens.verify(token))
            query = CURSOR_SLOT.sub(lambda m: literal(codec.encode(int(m.group(1)))), query)
        else:
            query = CURSOR_SLOT.sub('"none"', query)
        response = await self.client.post("/graphql", json={"query": query}, headers=sent)
        return response.status_code, response.json()


class World:
    """The demo database (pristine, and served), and an altered copy per principal.

    Not a dataclass: Hypothesis prints a failing example's arguments, and a dataclass
    field by field (every service, every token)."""

    def __init__(
        self,
        folder: Path,
        pristine: Path,
        key_dir: Path,
        tokens: dict[str, str],
        values: dict[str, list[Any]],
    ) -> None:
        self.folder = folder
        self.pristine = pristine
        self.key_dir = key_dir
        self.tokens = tokens
        self.values = values
        self.sides: dict[tuple[str, str | None, bool], Side] = {}

    def __repr__(self) -> str:
        return f"World({len(self.sides)} sides)"

    async def side(self, role: str, purpose: str | None, *, altered: bool) -> Side:
        key = (role, purpose if altered else None, altered)
        if key not in self.sides:
            name = f"{role}-{purpose}.db" if altered else "served.db"
            path = self.folder / name
            shutil.copyfile(self.pristine, path)
            side = open_side(f"sqlite+aiosqlite:///{path}", self.key_dir, self.tokens)
            if altered:
                await alter_side(side, role, purpose)
            self.sides[key] = side
        return self.sides[key]

    async def close(self) -> None:
        for side in self.sides.values():
            await side.client.aclose()
            if side.services.audit is not None:
                await side.services.audit.close()
            await side.services.engine.dispose()


def open_side(url: str, key_dir: Path, tokens: dict[str, str]) -> Side:
    app = create_app(
        Settings(database_url=url, key_dir=key_dir, rate_limit_requests=0, rate_limit_cost=0)
    )
    services: Services = app.state.services
    services.audit_enabled = False  # requests leave both databases as they are
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
    return Side(client, services, tokens)


async def alter_side(side: Side, role: str, purpose: str | None) -> None:
    services = side.services
    account = ACCOUNTS[role]
    principal = services.tokens.verify(side.tokens[account]) if account else ANONYMOUS
    try:
        effective = effective_purpose(services.policy, principal, purpose)
    except PurposeNotAllowed:
        return  # the operation is refused as a whole on both sides
    await alter_for(services.engine, services, principal, effective)


async def build_world(folder: Path, database_factory: Any, key_dir: Path) -> World:
    keyring = load_keyring(Settings(key_dir=key_dir))
    url = await seeded_database(database_factory, "sqlite", keyring)
    pristine = Path(make_url(url).database or "")
    engine = create_engine(url)
    settings_ = Settings(database_url=url, key_dir=key_dir)
    app = create_app(settings_)
    services: Services = app.state.services
    tokens: dict[str, str] = {}
    try:
        for account in (a for a in ACCOUNTS.values() if a is not None):
            tokens[account] = await issue_for_subject(
                services.engine, services.tokens, account, ttl=settings_.token_ttl
            )
        values = await argument_values(services)
    finally:
        if services.audit is not None:
            await services.audit.close()
        await services.engine.dispose()
        await engine.dispose()
    return World(folder, pristine, key_dir, tokens, values)


async def argument_values(services: Services) -> dict[str, list[Any]]:
    """Values worth filtering by, taken from the demo data (and a few that match nothing)."""
    keyring = services.keyring
    async with services.engine.connect() as conn:

        async def column(statement: Any) -> list[Any]:
            return [r[0] for r in (await conn.execute(statement)).all()]

        titles = await column(select(courses.c.title).limit(10))
        numbers = await column(select(users.c.id_number).where(users.c.id_number.is_not(None)))
        return {
            "order_status": [*sorted(set(await column(select(orders.c.status)))), "none"],
            "ticket_status": [*sorted(set(await column(select(tickets.c.status)))), "none"],
            "category": sorted(set(await column(select(courses.c.category)))),
            "search": sorted({t[:2] for t in titles} | {t[-3:] for t in titles}),
            "id_number": [*(keyring.decrypt(n) for n in numbers[:8]), "110101190001010000"],
        }


def literal(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


SLOT = re.compile(r"<(\w+):(\d+)>")
CURSOR_SLOT = re.compile(r"<cursor:(\d+)>")


def slot(kind: str, index: int) -> str:
    """A value of ``kind`` from the demo data, filled in when the query is sent (the
    strategy depends on nothing outside it, so Hypothesis can replay and shrink it)."""
    return f"<{kind}:{index}>"


def filled(query: str, values: dict[str, list[Any]]) -> str:
    def value(match: re.Match[str]) -> str:
        if match.group(1) == "cursor":
            return match.group(0)  # sealed per principal when the query is asked
        choices = values[match.group(1)]
        return literal(choices[int(match.group(2)) % len(choices)])

    return SLOT.sub(value, query)


@st.composite
def root_fields(draw: st.DrawFn) -> str:
    schema = SCHEMA
    kinds = [*CONNECTIONS, *LOOKUPS, "userByIdNumber", "me"]
    root = draw(st.sampled_from(kinds))
    if root in CONNECTIONS:
        arguments = [f"first: {draw(st.integers(1, 12))}"]
        if draw(st.booleans()):
            arguments.append(f"after: <cursor:{draw(st.integers(1, 60))}>")
        if root == "orders" and draw(st.booleans()):
            arguments.append(f"status: {slot('order_status', draw(INDEX))}")
        if root == "tickets" and draw(st.booleans()):
            arguments.append(f"status: {slot('ticket_status', draw(INDEX))}")
        if root == "courses" and draw(st.booleans()):
            arguments.append(f"search: {slot('search', draw(INDEX))}")
        if root == "courses" and draw(st.booleans()):
            arguments.append(f"category: {slot('category', draw(INDEX))}")
        if root == "auditEvents" and draw(st.booleans()):
            arguments.append(f"kind: {draw(st.sampled_from([k.name for k in AuditKind]))}")
        if root == "auditEvents" and draw(st.booleans()):
            arguments.append(f'subjectId: "{draw(st.integers(1, 60))}"')
        inner = draw(fields_strategy(schema, CONNECTIONS[root], 1))
        extra = draw(st.sampled_from(["", "totalCount", "pageInfo { hasNextPage endCursor }"]))
        return f"{root}({', '.join(arguments)}) {{ {extra} edges {{ node {{ {inner} }} }} }}"
    if root in LOOKUPS:
        inner = draw(fields_strategy(schema, LOOKUPS[root], 1))
        return f'{root}(id: "{draw(st.integers(1, 60))}") {{ {inner} }}'
    if root == "userByIdNumber":
        number = slot("id_number", draw(INDEX))
        return (
            f"userByIdNumber(idNumber: {number}) {{ {draw(fields_strategy(schema, 'User', 1))} }}"
        )
    return f"me {{ {draw(fields_strategy(schema, 'User', 1))} }}"


@st.composite
def operations(draw: st.DrawFn) -> tuple[str, str | None, str]:
    role = draw(st.sampled_from(sorted(ACCOUNTS)))
    declarable = sorted(p for r, p in MATRIX if r == role and p is not None)
    purpose = draw(st.sampled_from([*declarable, None])) if declarable else None
    body = draw(root_fields())
    directive = f" @purpose(name: {purpose})" if purpose else ""
    return role, purpose, f"query Drawn{directive} {{ {body} }}"


@pytest.fixture(scope="module")
async def world(
    tmp_path_factory: pytest.TempPathFactory, database_factory: Any, key_dir: Path
) -> AsyncIterator[World]:
    built = await build_world(tmp_path_factory.mktemp("interference"), database_factory, key_dir)
    yield built
    await built.close()


async def same_answer(world: World, role: str, purpose: str | None, query: str) -> None:
    served = await world.side(role, purpose, altered=False)
    altered = await world.side(role, purpose, altered=True)
    assert await served.ask(role, query) == await altered.ask(role, query), (
        f"{role}/{purpose}: the answer depends on what it may not read: {query}"
    )


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operation=operations())
async def test_answers_do_not_depend_on_what_is_not_read(
    world: World, operation: tuple[str, str | None, str]
) -> None:
    role, purpose, query = operation
    await same_answer(world, role, purpose, filled(query, world.values))


async def test_the_altered_copy_differs_where_it_must(world: World) -> None:
    """Guard against a vacuous property: the copies differ, and the difference shows when
    the argument check is off (the query the property found that way: the administrator
    sees ID numbers masked, yet could use one as a key)."""
    query = filled(
        "query Drawn @purpose(name: ACCOUNT) { userByIdNumber(idNumber: <id_number:0>) { id } }",
        world.values,
    )
    served = await world.side("admin", "ACCOUNT", altered=False)
    altered = await world.side("admin", "ACCOUNT", altered=True)
    assert await served.ask("admin", query) == await altered.ask("admin", query)
    for side in (served, altered):
        side.services.arguments_checked = False
    try:
        unchecked = [await side.ask("admin", query) for side in (served, altered)]
    finally:
        for side in (served, altered):
            side.services.arguments_checked = True
    assert unchecked[0] != unchecked[1]
