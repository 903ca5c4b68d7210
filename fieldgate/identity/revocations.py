"""Revocations: whether a token may still be used, read from ``issued_tokens`` together with
the state of the principal it names (an active staff member or partner, an open account)."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.models.tables import issued_tokens, partners, staff, users

REVOKED = "revoked"  # revoked, or never recorded
INACTIVE = "inactive"  # a staff member or partner switched off (or gone)
CLOSED = "closed"  # a user's account closed (or gone)


class RevocationChecker(Protocol):
    """Answers whether a verified token may no longer be used, and why."""

    async def refusal(self, principal: Principal) -> str | None: ...


class DatabaseRevocations:
    """Revocations read per request: one statement joining the token's ``issued_tokens``
    row with its principal's row, so a deactivated staff member or partner, a closed
    account and a revoked token are all refused on the next request, on every instance.

    A token is refused when revoked and also when its ``jti`` was never recorded for its
    subject: a token fieldgate did not record is not one it issued.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def refusal(self, principal: Principal) -> str | None:
        """None when the token may be used; otherwise ``revoked``, ``inactive`` or ``closed``."""
        if principal.token_id is None or principal.id is None:
            return REVOKED
        query = _check(principal.token_id, principal.kind, principal.id)
        if query is None:
            return REVOKED
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None or row[0] is not None:
            return REVOKED
        if not row[1]:
            return CLOSED if principal.kind is PrincipalKind.USER else INACTIVE
        return None

    async def is_revoked(self, jti: str) -> bool:
        """True when the token id is revoked or unknown (whoever holds it)."""
        query = select(issued_tokens.c.revoked_at).where(issued_tokens.c.jti == jti)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return row is None or row[0] is not None


def _check(jti: str, kind: PrincipalKind, principal_id: int) -> Select[tuple[object, bool]] | None:
    """``(revoked_at, usable)`` of the token and its principal, in one statement."""
    table = {
        PrincipalKind.USER: users,
        PrincipalKind.STAFF: staff,
        PrincipalKind.PARTNER: partners,
    }.get(kind)
    if table is None:
        return None
    state: ColumnElement[bool] = table.c.closed_at.is_(None) if table is users else table.c.active
    # an outer join: a principal whose row is gone reads as not usable
    usable = and_(table.c.id.is_not(None), state)
    joined = issued_tokens.outerjoin(table, table.c.id == principal_id)
    return (
        select(issued_tokens.c.revoked_at, usable.label("usable"))
        .select_from(joined)
        .where(
            issued_tokens.c.jti == jti,
            issued_tokens.c.subject == f"{kind}:{principal_id}",
        )
    )
