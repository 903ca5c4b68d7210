"""Changing one's password: proved by the current one, and every other token of the
account revoked, so that whoever held one of them must sign in again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from strawberry.types import Info

from fieldgate.audit.events import Actor, RightsRequest, rights_request_event
from fieldgate.errors import BadUserInput
from fieldgate.identity.passwords import hash_password
from fieldgate.identity.step_up import confirm_password
from fieldgate.models.tables import issued_tokens, users
from fieldgate.resolvers.arguments import require_user
from fieldgate.resolvers.context import RequestContext

Ctx = Info[RequestContext, None]
MIN_LENGTH, MAX_LENGTH = 8, 128  # as at registration


async def change_my_password(info: Ctx, current: str, new: str) -> bool:
    """Replace the caller's password; ``current`` is the step-up proof."""
    user_id = require_user(info)
    if not MIN_LENGTH <= len(new) <= MAX_LENGTH:
        raise BadUserInput(
            f"password must be {MIN_LENGTH} to {MAX_LENGTH} characters", argument="new"
        )
    ctx = info.context
    principal = ctx.principal
    async with ctx.services.engine.begin() as conn:
        await confirm_password(conn, user_id, current)
        await conn.execute(
            update(users).where(users.c.id == user_id).values(password_hash=hash_password(new))
        )
        await conn.execute(
            update(issued_tokens)
            .where(
                issued_tokens.c.subject == f"user:{user_id}",
                issued_tokens.c.revoked_at.is_(None),
                issued_tokens.c.jti != (principal.token_id or ""),
            )
            .values(revoked_at=datetime.now(UTC))
        )
        event = rights_request_event(
            Actor.of(principal), user_id, RightsRequest.PASSWORD_CHANGE, request_id=ctx.request_id
        )
        ctx.audit_or_refuse([event])
    return True
