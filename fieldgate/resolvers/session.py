"""A browser's session: signing in returns the token with its expiry; signing out revokes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt
from strawberry.types import Info

from fieldgate.errors import Unauthenticated
from fieldgate.identity.issuance import revoke
from fieldgate.resolvers import mutations
from fieldgate.resolvers.context import RequestContext

Ctx = Info[RequestContext, None]


async def login(info: Ctx, username: str, password: str) -> dict[str, Any]:
    """``{token, expires_at}`` for a user or staff member whose password matches."""
    token = await mutations.login(info, username, password)
    # the token was signed here a moment ago: its expiry is read, not verified again
    claims = jwt.decode(token, options={"verify_signature": False})
    return {"token": token, "expires_at": datetime.fromtimestamp(int(claims["exp"]), UTC)}


async def logout(info: Ctx) -> bool:
    """Revoke the token the request came with (audited ``token_revoked``)."""
    principal = info.context.principal
    if not principal.is_authenticated or principal.token_id is None:
        raise Unauthenticated("login_required", "this operation needs a signed-in principal")
    services = info.context.services
    return await revoke(services.engine, principal.token_id, audit=services.audit)
