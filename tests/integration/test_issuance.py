"""Issuing, logging in, listing and revoking tokens against SQLite and PostgreSQL."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, pool, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request

import fieldgate.identity.issuance as issuance
from fieldgate.authz.principal import PrincipalKind
from fieldgate.errors import BadUserInput, Forbidden, NotFound, Unauthenticated
from fieldgate.http.auth import TokenAuthBackend, TokenRejected
from fieldgate.identity.issuance import issue_for_subject, list_tokens, login, revoke
from fieldgate.identity.passwords import hash_password, verify_password
from fieldgate.identity.revocations import DatabaseRevocations
from fieldgate.identity.signing_key import SigningKey
from fieldgate.identity.tokens import TokenService
from fieldgate.infra.db import create_engine
from fieldgate.models import IssuedToken, Partner, Staff, User

POSTGRES_ENV = "FIELDGATE_TEST_POSTGRES_URL"
PASSWORD = "correct horse battery staple"
TTL = timedelta(hours=1)


@dataclass(frozen=True)
class Accounts:
    """The ids of the rows every test starts with."""

    staff: int
    user: int
    sf_express: int
    global_logistics: int


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ],
)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A new database for this module: a SQLite file, or a PostgreSQL database dropped after."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('tokens') / 'tokens.db'}"
        return
    server = os.environ.get(POSTGRES_ENV, "").strip()
    if not server:
        pytest.skip(f"{POSTGRES_ENV} is not set: PostgreSQL tests skipped")
    server = make_url(server).set(drivername="postgresql+asyncpg").render_as_string(False)
    name = f"fieldgate_tok_{secrets.token_hex(6)}"
    # CREATE and DROP DATABASE cannot run inside a transaction
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@pytest.fixture(scope="module")
async def module_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def engine(module_engine: AsyncEngine) -> AsyncEngine:
    """The module's database, emptied for each test (cheaper than new tables)."""
    async with module_engine.begin() as connection:
        for table in reversed(SQLModel.metadata.sorted_tables):
            await connection.execute(table.delete())
    return module_engine


@pytest.fixture(scope="module")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
async def accounts(engine: AsyncEngine, password_hash: str) -> Accounts:
    now = datetime(2025, 1, 1, 8, 0, 0, tzinfo=UTC)
    staff = Staff(
        username="support1",
        password_hash=password_hash,
        display_name="Support One",
        roles="support_agent finance",
        created_at=now,
    )
    user = User(username="alice", password_hash=password_hash, created_at=now)
    sf_express = Partner(
        name="sf-express",
        kind="logistics",
        region="CN",
        allowed_purposes="DELIVERY ORDER_FULFILLMENT",
        created_at=now,
    )
    global_logistics = Partner(
        name="global-logistics",
        kind="logistics",
        region="SG",
        allowed_purposes="DELIVERY",
        created_at=now,
    )
    others = [
        User(username="carol", password_hash=password_hash, created_at=now, closed_at=now),
        User(username="shared", password_hash=password_hash, created_at=now),
        Staff(
            username="shared",
            password_hash=password_hash,
            display_name="Shared",
            roles="security_analyst",
            created_at=now,
        ),
        Staff(
            username="retired",
            password_hash=password_hash,
            display_name="Retired",
            roles="admin",
            active=False,
            created_at=now,
        ),
        Partner(
            name="old-merchant",
            kind="merchant",
            region="CN",
            allowed_purposes="ORDER_FULFILLMENT",
            active=False,
            created_at=now,
        ),
    ]
    async with AsyncSession(engine, expire_on_commit=False) as session:
        session.add_all([staff, user, sf_express, global_logistics, *others])
        await session.commit()
    assert staff.id and user.id and sf_express.id and global_logistics.id
    return Accounts(
        staff=staff.id, user=user.id, sf_express=sf_express.id, global_logistics=global_logistics.id
    )


@pytest.fixture(scope="module")
def tokens() -> TokenService:
    return TokenService(SigningKey.generate(), "fieldgate", "fieldgate-api")


async def recorded_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(select(func.count()).select_from(IssuedToken))
    return int(count or 0)


# --- issue ------------------------------------------------------------------------------


async def test_issue_for_staff(
    engine: AsyncEngine, tokens: TokenService, accounts: Accounts
) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    token = await issue_for_subject(engine, tokens, "support1", ttl=TTL)
    principal = tokens.verify(token)

    assert principal.kind is PrincipalKind.STAFF
    assert principal.id == accounts.staff
    assert principal.name == "support1"
    assert principal.roles == frozenset({"support_agent", "finance"})
    assert principal.purposes == frozenset() and principal.partner_region is None
    [record] = await list_tokens(engine)
    assert record.jti == principal.token_id
    assert record.subject == f"staff:{accounts.staff}"
    assert record.revoked_at is None
    assert before <= record.issued_at <= before + timedelta(seconds=5)
    assert record.expires_at - record.issued_at == TTL
    assert principal.token_id is not None
    assert not await DatabaseRevocations(engine).is_revoked(principal.token_id)


async def test_issue_for_user(
    engine: AsyncEngine, tokens: TokenService, accounts: Accounts
) -> None:
    principal = tokens.verify(await issue_for_subject(engine, tokens, "alice", ttl=TTL))
    assert principal.kind is PrincipalKind.USER
    assert principal.user_id == accounts.user
    assert principal.roles == frozenset({"user"})


async def test_issue_for_partners(
    engine: AsyncEngine, tokens: TokenService, accounts: Accounts
) -> None:
    domestic = tokens.verify(await issue_for_subject(engine, tokens, "sf-express", ttl=TTL))
    abroad = tokens.verify(await issue_for_subject(engine, tokens, "global-logistics", ttl=TTL))

    assert domestic.kind is PrincipalKind.PARTNER
    assert domestic.partner_id == accounts.sf_express
    assert domestic.roles == frozenset({"logistics"})
    assert domestic.purposes == frozenset({"DELIVERY", "ORDER_FULFILLMENT"})
    assert domestic.partner_region == "CN"
    assert abroad.partner_id == accounts.global_logistics
    assert abroad.purposes == frozenset({"DELIVERY"})
    assert abroad.partner_region == "SG"


async def test_staff_is_looked_up_before_users(
    engine: AsyncEngine, tokens: TokenService, accounts: Accounts
) -> None:
    principal = tokens.verify(await issue_for_subject(engine, tokens, "shared", ttl=TTL))
    assert principal.kind is PrincipalKind.STAFF
    assert principal.roles == frozenset({"security_analyst"})


async def test_narrowing(engine: AsyncEngine, tokens: TokenService, accounts: Accounts) -> None:
    staff = tokens.verify(
        await issue_for_subject(
            engine,
            tokens,
            "support1",
            roles=["finance"],
            scopes=["Order.amountCents"],
            purposes=["INVOICING"],
            ttl=TTL,
            strict=True,
        )
    )
    partner = tokens.verify(
        await issue_for_subject(engine, tokens, "sf-express", purposes=["DELIVERY"], ttl=TTL)
    )

    assert staff.roles == frozenset({"finance"})
    assert staff.scopes == frozenset({"Order.amountCents"})
    assert staff.purposes == frozenset({"INVOICING"})
    assert staff.strict
    assert partner.purposes == frozenset({"DELIVERY"})
    assert partner.roles == frozenset({"logistics"})


@pytest.mark.parametrize(
    ("sub", "roles", "purposes", "scopes"),
    [
        ("support1", ["admin"], [], []),
        ("support1", ["finance", "dpo"], [], []),
        ("alice", ["support_agent"], [], []),
        ("sf-express", ["payment"], [], []),
        ("sf-express", [], ["MARKETING"], []),
        ("global-logistics", [], ["ORDER_FULFILLMENT"], []),
        ("support1", [], ["NO_SUCH_PURPOSE"], []),
        ("alice", [], ["delivery"], []),
        ("alice", [], [], ["two words"]),
    ],
)
async def test_widening_is_refused(
    engine: AsyncEngine,
    tokens: TokenService,
    accounts: Accounts,
    sub: str,
    roles: list[str],
    purposes: list[str],
    scopes: list[str],
) -> None:
    with pytest.raises(BadUserInput):
        await issue_for_subject(
            engine, tokens, sub, roles=roles, purposes=purposes, scopes=scopes, ttl=TTL
        )
    assert await recorded_count(engine) == 0


@pytest.mark.parametrize(
    ("sub", "error"),
    [
        ("carol", Forbidden),
        ("retired", Forbidden),
        ("old-merchant", Forbidden),
        ("nobody", NotFound),
    ],
)
async def test_closed_inactive_and_unknown_accounts_are_refused(
    engine: AsyncEngine, tokens: TokenService, accounts: Accounts, sub: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await issue_for_subject(engine, tokens, sub, ttl=TTL)
    assert await recorded_count(engine) == 0


# --- login ------------------------------------------------------------------------------


async def test_login_staff_and_user(
    engine: AsyncEngine, tokens: TokenService, accounts: Accounts
) -> None:
    staff = tokens.verify(await login(engine, tokens, "support1", PASSWORD, ttl=TTL))
    user = tokens.verify(await login(engine, tokens, "alice", PASSWORD, ttl=TTL))

    assert (staff.kind, staff.id) == (PrincipalKind.STAFF, accounts.staff)
    assert staff.roles == frozenset({"support_agent", "finance"})
    assert (user.kind, user.id) == (PrincipalKind.USER, accounts.user)
    assert {t.jti for t in await list_tokens(engine)} == {staff.token_id, user.token_id}


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("alice", "wrong password"),
        ("support1", ""),
        ("nobody", PASSWORD),
        ("carol", PASSWORD),  # closed account, right password
        ("retired", PASSWORD),  # inactive staff, right password
        ("sf-express", PASSWORD),  # partners do not log in
    ],
)
async def test_login_failures_look_alike(
    engine: AsyncEngine,
    tokens: TokenService,
    accounts: Accounts,
    monkeypatch: pytest.MonkeyPatch,
    username: str,
    password: str,
) -> None:
    verified: list[str] = []
    real_verify = verify_password

    def counting_verify(password_hash: str, candidate: str) -> bool:
        verified.append(password_hash)
        return real_verify(password_hash, candidate)

    monkeypatch.setattr(issuance, "verify_password", counting_verify)
    with pytest.raises(Unauthenticated) as caught:
        await login(engine, tokens, username, password, ttl=TTL)

    assert caught.value.reason == "invalid_credentials"
    assert caught.value.message == "invalid username or password"
    assert len(verified) == 1  # the same work whether or not the account exists
    assert await recorded_count(engine) == 0


# --- revoke and list --------------------------------------------------------------------


async def test_revoke_then_refused(
    engine: AsyncEngine, tokens: TokenService, accounts: Accounts
) -> None:
    token = await issue_for_subject(engine, tokens, "sf-express", ttl=TTL)
    jti = tokens.verify(token).token_id
    assert jti is not None
    revocations = DatabaseRevocations(engine)
    backend = TokenAuthBackend(tokens, revocations)
    request = Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/graphql",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
        }
    )
    _, user = await backend.authenticate(request)
    principal = user.principal
    assert principal.token_id == jti

    assert await revoke(engine, jti) is True
    [record] = await list_tokens(engine)
    first_revocation = record.revoked_at
    assert first_revocation is not None
    assert await revocations.is_revoked(jti)
    with pytest.raises(TokenRejected) as caught:
        await backend.authenticate(request)
    assert caught.value.reason == "revoked"

    assert await revoke(engine, jti) is True  # idempotent
    [record] = await list_tokens(engine)
    assert record.revoked_at == first_revocation


async def test_unknown_jti(engine: AsyncEngine, tokens: TokenService, accounts: Accounts) -> None:
    await issue_for_subject(engine, tokens, "alice", ttl=TTL)
    unknown = secrets.token_hex(16)

    assert await revoke(engine, unknown) is False
    assert await DatabaseRevocations(engine).is_revoked(unknown)


async def test_token_never_recorded_is_refused(
    engine: AsyncEngine, tokens: TokenService, accounts: Accounts
) -> None:
    grant = tokens.issue(
        subject=f"user:{accounts.user}", kind="user", name="alice", roles=["user"], ttl=TTL
    )
    backend = TokenAuthBackend(tokens, DatabaseRevocations(engine))
    request = Request(
        {
            "type": "http",
            "method": "POST",
            "path": "/graphql",
            "headers": [(b"authorization", f"Bearer {grant.token}".encode())],
        }
    )
    with pytest.raises(TokenRejected) as caught:
        await backend.authenticate(request)
    assert caught.value.reason == "revoked"


async def test_list_tokens_by_subject(
    engine: AsyncEngine, tokens: TokenService, accounts: Accounts
) -> None:
    await issue_for_subject(engine, tokens, "alice", ttl=TTL)
    await issue_for_subject(engine, tokens, "alice", ttl=timedelta(minutes=5))
    await issue_for_subject(engine, tokens, "support1", ttl=TTL)

    mine = await list_tokens(engine, f"user:{accounts.user}")
    everyone = await list_tokens(engine)

    assert len(mine) == 2
    assert {t.subject for t in mine} == {f"user:{accounts.user}"}
    assert len(everyone) == 3
    assert [t.issued_at for t in everyone] == sorted((t.issued_at for t in everyone), reverse=True)
    assert await list_tokens(engine, "user:999999") == []
