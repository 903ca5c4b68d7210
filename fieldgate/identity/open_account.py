"""The user's row as the lock of every write to that user's data.

Closing an account, every mutation of a user's data and every token issued to a user take
the user's row first, inside their transaction, and go on only while the account is open. A
close therefore runs either wholly before a racing write (which then finds the account closed
and writes nothing) or wholly after it (and erases what it wrote, revoking its token).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from fieldgate.errors import AccountClosed
from fieldgate.infra.db import write_transaction
from fieldgate.models.tables import users


async def lock_open_user(connection: AsyncConnection, user_id: int) -> None:
    """Lock the user's row until the transaction ends; ``AccountClosed`` when it is closed.

    PostgreSQL: ``SELECT … FOR UPDATE`` (a racing close waits, or has committed and the row
    no longer matches). SQLite: the transaction must be a :func:`write_transaction`, whose
    write lock already serialises every writer.
    """
    open_row = users.c.id == user_id, users.c.closed_at.is_(None)
    found = await connection.scalar(select(users.c.id).where(*open_row).with_for_update())
    if found is None:
        raise AccountClosed("the account is closed")


async def claim_closure(connection: AsyncConnection, user_id: int, at: datetime) -> None:
    """Mark the account closed, once: of racing closes one claims it, the others get
    ``AccountClosed``. The row stays locked until the transaction ends."""
    claimed = await connection.execute(
        update(users).where(users.c.id == user_id, users.c.closed_at.is_(None)).values(closed_at=at)
    )
    if claimed.rowcount != 1:
        raise AccountClosed("the account is closed")


@asynccontextmanager
async def user_transaction(engine: AsyncEngine, user_id: int) -> AsyncIterator[AsyncConnection]:
    """A write transaction holding the open account's row (see :func:`lock_open_user`)."""
    async with write_transaction(engine) as connection:
        await lock_open_user(connection, user_id)
        yield connection
