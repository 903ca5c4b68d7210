"""Administration through GraphQL: tokens and trusted documents.

Who may do it is the policy's answer (``manage`` on ``@tokens`` or ``@documents``), never a
role name written here. Token issuance and revocation are audited by ``issuance``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.types import Info

from fieldgate.authz.policy_rules import DOCUMENTS_OBJECT, MANAGE_ACT, TOKENS_OBJECT
from fieldgate.authz.principal import Principal
from fieldgate.authz.token_grants import TokenGrants
from fieldgate.documents.store import register_document
from fieldgate.errors import BadUserInput, Forbidden, NotFound, Unauthenticated
from fieldgate.identity.accounts import subject_named
from fieldgate.identity.issuance import (
    issue_for_subject,
    list_tokens,
    parse_ttl,
    revoke,
    revoke_subject,
)
from fieldgate.models import IssuedToken
from fieldgate.resolvers.context import RequestContext

Ctx = Info[RequestContext, None]

MAX_PAGE = 100
_SUBJECT = re.compile(r"(?:user|staff|partner):[1-9][0-9]{0,18}")


@dataclass(frozen=True, slots=True)
class IssuedGrant:
    """A token just issued, and what is recorded about it."""

    token: str
    jti: str
    subject: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenPage:
    """One page of recorded tokens, newest first; ``end_cursor`` is the last jti."""

    nodes: list[IssuedToken]
    has_next_page: bool
    end_cursor: str | None
    total_count: int


def require_manager(info: Ctx, obj: str) -> Principal:
    """The caller, when the policy lets one of its roles ``manage`` ``obj``."""
    ctx = info.context
    principal = ctx.principal
    if not principal.is_authenticated:
        raise Unauthenticated("login_required", "this operation needs a signed-in principal")
    if not ctx.services.policy.may(principal.roles, obj, MANAGE_ACT):
        raise Forbidden("the policy does not let this principal do that")
    return principal


async def issue_token(
    info: Ctx,
    subject: str,
    *,
    roles: Sequence[str] = (),
    scopes: Sequence[str] = (),
    purposes: Sequence[str] = (),
    ttl: str | None = None,
    strict: bool = False,
) -> IssuedGrant:
    """Issue a token for a staff member, user or partner by name (audited ``token_issued``)."""
    require_manager(info, TOKENS_OBJECT)
    services = info.context.services
    lifetime = parse_ttl(ttl) if ttl is not None else services.settings.token_ttl
    token = await issue_for_subject(
        services.engine,
        services.tokens,
        subject,
        roles=roles,
        scopes=scopes,
        purposes=purposes,
        ttl=lifetime,
        strict=strict,
        audit=services.audit,
        grants=TokenGrants(services.catalog.classifications, services.policy),
    )
    jti = services.tokens.verify(token).token_id
    async with services.engine.connect() as conn:
        row = (
            await conn.execute(
                select(IssuedToken.subject, IssuedToken.expires_at).where(  # type: ignore[call-overload]
                    IssuedToken.jti == jti
                )
            )
        ).first()
    if jti is None or row is None:  # recorded in the same call: always there
        raise NotFound("the token was not recorded")
    return IssuedGrant(token=token, jti=jti, subject=row[0], expires_at=row[1])


async def revoke_token(info: Ctx, jti: str) -> bool:
    """Revoke a token by id; False when none has it (audited ``token_revoked``)."""
    require_manager(info, TOKENS_OBJECT)
    services = info.context.services
    return await revoke(services.engine, jti, audit=services.audit)


async def revoke_tokens_of(info: Ctx, subject: str) -> int:
    """Revoke every live token of a staff member, user or partner by name; how many
    (each audited ``token_revoked``)."""
    require_manager(info, TOKENS_OBJECT)
    services = info.context.services
    sub = await _subject(services.engine, subject)
    if sub is None:
        raise NotFound("no staff member, user or partner has that name", argument="subject")
    return await revoke_subject(services.engine, sub, audit=services.audit)


async def issued_tokens(
    info: Ctx, subject: str | None = None, first: int | None = None, after: str | None = None
) -> TokenPage:
    """Recorded tokens (never their text), newest first, of one subject when given."""
    require_manager(info, TOKENS_OBJECT)
    engine = info.context.services.engine
    size = MAX_PAGE if first is None else first
    if not 0 <= size <= MAX_PAGE:
        raise BadUserInput(f"first must be between 0 and {MAX_PAGE}", argument="first")
    sub = None if subject is None else await _subject(engine, subject)
    records = await list_tokens(engine, sub) if subject is None or sub is not None else []
    start = 0
    if after is not None:
        ids = [r.jti for r in records]
        if after not in ids:
            raise BadUserInput("after is not a cursor of this list", argument="after")
        start = ids.index(after) + 1
    page = records[start : start + size]
    return TokenPage(
        nodes=page,
        has_next_page=start + size < len(records),
        end_cursor=page[-1].jti if page else None,
        total_count=len(records),
    )


async def register_trusted_document(
    info: Ctx, document: str, name: str | None = None, partners: Sequence[str] = ()
) -> str:
    """Store a document and trust it for the partners named; its SHA-256. The document must
    parse, validate and lie within each partner's view of the schema."""
    principal = require_manager(info, DOCUMENTS_OBJECT)
    services = info.context.services
    return await register_document(
        services.engine,
        document,
        name=name,
        partners=partners,
        created_by=principal.identity,
        check=services.check_document,
    )


async def _subject(engine: AsyncEngine, name: str) -> str | None:
    """``kind:ID`` as given, or that of a staff member, user or partner by name."""
    if _SUBJECT.fullmatch(name):
        return name
    return await subject_named(engine, name)
