"""Step-up: the fresh proof of identity that exporting one's data, closing the account and
changing the password ask for besides the token, so that a stolen token alone cannot.

The proof is the account's password, sent with the operation itself (``password:``): it is
checked at that moment, so it is never older than the request.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from fieldgate.errors import ReauthenticationRequired
from fieldgate.identity.passwords import verify_password
from fieldgate.models.tables import users

PASSWORD_REQUIRED = "password_required"
PASSWORD_INCORRECT = "password_incorrect"


async def confirm_password(connection: AsyncConnection, user_id: int, password: str | None) -> None:
    """Return when ``password`` is the open account's; else ``REAUTHENTICATION_REQUIRED``."""
    if not password:
        raise ReauthenticationRequired(PASSWORD_REQUIRED)
    stored = await connection.scalar(
        select(users.c.password_hash).where(users.c.id == user_id, users.c.closed_at.is_(None))
    )
    # Argon2 takes tens of milliseconds: off the event loop
    matches = stored is not None and await asyncio.to_thread(verify_password, stored, password)
    if not matches:
        raise ReauthenticationRequired(PASSWORD_INCORRECT)
