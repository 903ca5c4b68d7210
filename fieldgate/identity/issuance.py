"""Issuing, listing and revoking tokens for the accounts in the database.

Roles, kind and allowed purposes come from the account's row; a request may only narrow
them. Every token issued is recorded in ``issued_tokens`` so that it can be revoked.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fieldgate.audit.events import Actor, AuditRecorder, token_issued_event, token_revoked_event
from fieldgate.authz.principal import PrincipalKind
from fieldgate.authz.purposes import Purpose
from fieldgate.authz.token_grants import TokenGrants
from fieldgate.errors import (
    AccountClosed,
    BadUserInput,
    FieldgateError,
    Forbidden,
    NotFound,
    Unauthenticated,
)
from fieldgate.identity.accounts import Account, find_account, staff_account, user_account
from fieldgate.identity.open_account import lock_open_user
from fieldgate.identity.passwords import hash_password, verify_password
from fieldgate.identity.tokens import TokenService, subject_of
from fieldgate.infra.db import write_transaction
from fieldgate.models import IssuedToken, Staff, User
from fieldgate.models.tables import issued_tokens, login_events

MAX_TTL = timedelta(days=365)
_TTL = re.compile(r"([0-9]{1,9})([smhd])")
_TTL_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_KNOWN_PURPOSES = frozenset(p.value for p in Purpose)


@dataclass(frozen=True, slots=True)
class SignIn:
    """A user's sign-in to record with the token: where it came from."""

    ip: str | None


def parse_ttl(text: str) -> timedelta:
    """A lifetime such as ``90s``, ``30m``, ``1h`` or ``7d``; up to 365 days."""
    match = _TTL.fullmatch(text.strip())
    if match is None:
        raise BadUserInput("lifetime must be a number and a unit (s, m, h or d), e.g. 1h")
    ttl = timedelta(**{_TTL_UNITS[match.group(2)]: int(match.group(1))})
    if not timedelta(0) < ttl <= MAX_TTL:
        raise BadUserInput("lifetime must be between 1s and 365d")
    return ttl


async def issue_for_subject(
    engine: AsyncEngine,
    tokens: TokenService,
    sub: str,
    *,
    roles: Sequence[str] = (),
    scopes: Sequence[str] = (),
    purposes: Sequence[str] = (),
    ttl: timedelta,
    strict: bool = False,
    audit: AuditRecorder | None = None,
    grants: TokenGrants | None = None,
) -> str:
    """Issue and record a token for a staff username, user username or partner name.

    Staff are looked up first, then users, then partners. ``roles``, ``scopes`` and
    ``purposes`` narrow what the account holds; asking for more is ``BadUserInput``. With
    ``grants`` (what the API and the command pass), a scope naming no type or field of the
    schema, or a purpose the token's roles may not declare, is ``BadUserInput`` too.
    A ``token_issued`` event goes to ``audit`` when given.
    """
    async with AsyncSession(engine, expire_on_commit=False) as session:
        account = await find_account(session, sub)
    if account is None:
        raise NotFound("no staff member, user or partner has that name")
    closed = Forbidden("the account is closed or inactive")
    if not account.usable:
        raise closed
    granted_roles = _narrow_roles(account, roles)
    granted_purposes = _narrow_purposes(account, purposes)
    granted_scopes = _check_scopes(scopes)
    if grants is not None:
        _check_grants(grants, granted_roles, granted_scopes, purposes)
    return await _issue(
        engine,
        tokens,
        account,
        roles=granted_roles,
        scopes=granted_scopes,
        purposes=granted_purposes,
        ttl=ttl,
        strict=strict,
        audit=audit,
        via="issue",
        closed=closed,
    )


async def login(
    engine: AsyncEngine,
    tokens: TokenService,
    username: str,
    password: str,
    *,
    ttl: timedelta,
    audit: AuditRecorder | None = None,
    sign_in: SignIn | None = None,
) -> str:
    """A token for a staff member or user (staff first) whose password matches; a user's
    ``sign_in`` is recorded as a login event with the token, in one transaction.

    Every failure is the same ``Unauthenticated("invalid_credentials")`` and costs the
    same one password verification, so that neither the answer nor its timing tells
    whether the account exists.
    """
    dummy_hash = _dummy_hash()  # built before any lookup so that no path pays for it alone
    async with AsyncSession(engine, expire_on_commit=False) as session:
        account: Account | None = None
        password_hash = dummy_hash
        staff = (await session.exec(select(Staff).where(Staff.username == username))).first()
        if staff is not None:
            account, password_hash = staff_account(staff), staff.password_hash
        else:
            user = (await session.exec(select(User).where(User.username == username))).first()
            if user is not None:
                account, password_hash = user_account(user), user.password_hash
    # off the event loop: a slow hash must not stall the transactions of other requests
    matches = await asyncio.to_thread(verify_password, password_hash, password)
    refused = Unauthenticated("invalid_credentials", "invalid username or password")
    if not matches or account is None or not account.usable:
        raise refused
    return await _issue(
        engine,
        tokens,
        account,
        roles=account.roles,
        scopes=(),
        purposes=(),
        ttl=ttl,
        audit=audit,
        via="login",
        closed=refused,
        sign_in=sign_in,
    )


async def revoke(engine: AsyncEngine, jti: str, *, audit: AuditRecorder | None = None) -> bool:
    """Revoke a recorded token; False when no token has that id. Revoking twice is fine.

    The first revocation sends a ``token_revoked`` event to ``audit`` when given.
    """
    async with AsyncSession(engine, expire_on_commit=False) as session:
        record = await session.get(IssuedToken, jti)
        if record is None:
            return False
        if record.revoked_at is None:
            record.revoked_at = datetime.now(UTC)
            session.add(record)
            await session.commit()
            if audit is not None:
                await audit.record([token_revoked_event(_holder(record.subject), jti=jti)])
        return True


async def revoke_subject(
    engine: AsyncEngine, subject: str, *, audit: AuditRecorder | None = None
) -> int:
    """Revoke every live token of ``subject`` (``kind:ID``) in one statement; how many.

    Each revocation sends a ``token_revoked`` event to ``audit`` when given.
    """
    now = datetime.now(UTC)
    statement = (
        update(issued_tokens)
        .where(issued_tokens.c.subject == subject, issued_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(issued_tokens.c.jti)
    )
    async with engine.begin() as connection:
        revoked = (await connection.execute(statement)).all()
    if audit is not None and revoked:
        holder = _holder(subject)
        await audit.record([token_revoked_event(holder, jti=jti) for (jti,) in revoked])
    return len(revoked)


async def list_tokens(engine: AsyncEngine, subject: str | None = None) -> list[IssuedToken]:
    """Recorded tokens, newest first; only those of ``subject`` (``kind:ID``) when given."""
    query = select(IssuedToken)
    if subject is not None:
        query = query.where(IssuedToken.subject == subject)
    query = query.order_by(col(IssuedToken.issued_at).desc(), col(IssuedToken.jti))
    async with AsyncSession(engine, expire_on_commit=False) as session:
        return list((await session.exec(query)).all())


async def _issue(
    engine: AsyncEngine,
    tokens: TokenService,
    account: Account,
    *,
    roles: Sequence[str],
    scopes: Sequence[str],
    purposes: Sequence[str],
    ttl: timedelta,
    strict: bool = False,
    audit: AuditRecorder | None = None,
    via: str,
    closed: FieldgateError,
    sign_in: SignIn | None = None,
) -> str:
    """Sign and record a token; a user's under the lock of their open row, so that a close
    either refuses it (``closed``) or comes after and revokes it."""
    subject = subject_of(account.kind, account.id)
    grant = tokens.issue(
        subject=subject,
        kind=account.kind,
        name=account.name,
        roles=roles,
        scopes=scopes,
        purposes=purposes,
        ttl=ttl,
        strict=strict,
        region=account.region,
    )
    async with write_transaction(engine) as connection:
        if account.kind is PrincipalKind.USER:
            try:
                await lock_open_user(connection, account.id)
            except AccountClosed:
                raise closed from None
            if sign_in is not None:
                await connection.execute(
                    insert(login_events).values(
                        user_id=account.id, ip=sign_in.ip, succeeded=True, at=grant.issued_at
                    )
                )
        await connection.execute(
            insert(issued_tokens).values(
                jti=grant.jti,
                subject=subject,
                issued_at=grant.issued_at,
                expires_at=grant.expires_at,
            )
        )
    if audit is not None:
        event = token_issued_event(
            Actor.account(account.kind, account.id, roles),
            jti=grant.jti,
            expires_at=grant.expires_at,
            scopes=scopes,
            purposes=purposes,
            strict=strict,
            via=via,
        )
        await audit.record([event])
    return grant.token


def _holder(subject: str) -> Actor:
    """The holder of a recorded token from its ``sub`` (``kind:ID``)."""
    kind, _, raw_id = subject.partition(":")
    try:
        return Actor.account(kind, int(raw_id), ())
    except ValueError:  # recorded by this module, so always well formed; stay total anyway
        return Actor(kind="unknown")


def _narrow_roles(account: Account, requested: Sequence[str]) -> tuple[str, ...]:
    if not requested:
        return account.roles
    extra = set(requested) - set(account.roles)
    if extra:
        raise BadUserInput(f"the account does not hold the roles {sorted(extra)}")
    return tuple(sorted(set(requested)))


def _narrow_purposes(account: Account, requested: Sequence[str]) -> tuple[str, ...]:
    unknown = set(requested) - _KNOWN_PURPOSES
    if unknown:
        raise BadUserInput(f"unknown purposes {sorted(unknown)}")
    if not requested:
        return account.purposes
    if account.kind is PrincipalKind.PARTNER:
        outside = set(requested) - set(account.purposes)
        if outside:
            raise BadUserInput(f"the partner is not allowed the purposes {sorted(outside)}")
    return tuple(sorted(set(requested)))


def _check_scopes(requested: Sequence[str]) -> tuple[str, ...]:
    if any(not scope or any(c.isspace() for c in scope) for scope in requested):
        raise BadUserInput("a scope must be a non-empty name without spaces")
    return tuple(sorted(set(requested)))


def _check_grants(
    grants: TokenGrants, roles: Sequence[str], scopes: Sequence[str], purposes: Sequence[str]
) -> None:
    unknown = grants.unknown_scopes(scopes)
    if unknown:
        raise BadUserInput(
            f"scopes name no type or field of the schema: {unknown}", argument="scopes"
        )
    undeclarable = grants.undeclarable(roles, purposes)
    if undeclarable:
        raise BadUserInput(
            f"the token's roles may not declare the purposes {undeclarable}", argument="purposes"
        )


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the account does not exist (built on first use)."""
    return hash_password("fieldgate-no-such-account")
