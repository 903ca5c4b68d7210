"""Revocations: whether a token id may still be used, read from ``issued_tokens``."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col

from fieldgate.models import IssuedToken


class RevocationChecker(Protocol):
    """Answers whether a token id may no longer be used."""

    async def is_revoked(self, jti: str) -> bool: ...


class DatabaseRevocations:
    """Revocations read from ``issued_tokens``: exact, one primary-key lookup per request.

    A token is refused when revoked and also when its ``jti`` was never recorded: a
    token fieldgate did not record is not one it issued.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def is_revoked(self, jti: str) -> bool:
        """True when the token is revoked or unknown."""
        query = select(col(IssuedToken.revoked_at)).where(col(IssuedToken.jti) == jti)
        async with self._engine.connect() as connection:
            row = (await connection.execute(query)).first()
        return row is None or row[0] is not None
