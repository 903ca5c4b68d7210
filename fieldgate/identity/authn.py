"""Authentication: the Starlette backend that turns a Bearer token into a ``Principal``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from starlette.authentication import AuthCredentials, AuthenticationBackend, AuthenticationError
from starlette.requests import HTTPConnection
from starlette.responses import Response

from fieldgate.authz.principal import ANONYMOUS, Principal
from fieldgate.errors import Unauthenticated
from fieldgate.http.envelope import error_response
from fieldgate.identity.tokens import TokenService
from fieldgate.models import IssuedToken

GRAPHQL_RESPONSE_MEDIA_TYPE = "application/graphql-response+json"


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


class InMemoryRevocations:
    """A revocation list kept in the process, for tests; unknown ids count as valid."""

    def __init__(self, revoked: Iterable[str] = ()) -> None:
        self._revoked = set(revoked)

    def revoke(self, jti: str) -> None:
        """Mark a token id as revoked."""
        self._revoked.add(jti)

    async def is_revoked(self, jti: str) -> bool:
        """True when ``jti`` was revoked."""
        return jti in self._revoked


class TokenRejected(AuthenticationError):
    """A presented token was refused; ``reason`` is the machine-readable cause."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenAuthBackend(AuthenticationBackend):
    """``Authorization: Bearer <token>`` → verified, unrevoked ``Principal``.

    No header means the anonymous principal; a header that is present but wrong is an
    error, never a silent fall-back to anonymous.
    """

    def __init__(self, tokens: TokenService, revocations: RevocationChecker) -> None:
        self._tokens = tokens
        self._revocations = revocations

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, Principal]:
        """Authenticate one request; raises ``TokenRejected`` when its token is refused."""
        header = conn.headers.get("authorization")
        if header is None:
            return AuthCredentials([]), ANONYMOUS
        token = bearer_token(header)
        if token is None:
            raise TokenRejected("malformed")
        try:
            principal = self._tokens.verify(token)
        except Unauthenticated as exc:
            raise TokenRejected(exc.reason) from None
        if principal.token_id is None or await self._revocations.is_revoked(principal.token_id):
            raise TokenRejected("revoked")
        return AuthCredentials(sorted(principal.roles)), principal


def bearer_token(header: str) -> str | None:
    """The token of a ``Bearer <token>`` header value (scheme case-insensitive), else None."""
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1]


def authentication_error_response(conn: HTTPConnection, exc: AuthenticationError) -> Response:
    """The 401 answer to a refused token: a GraphQL error body with the reason, no details.

    Passed as ``on_error`` to Starlette's ``AuthenticationMiddleware``.
    """
    reason = exc.reason if isinstance(exc, TokenRejected) else "malformed"
    accept = conn.headers.get("accept", "")
    media_type = (
        GRAPHQL_RESPONSE_MEDIA_TYPE if GRAPHQL_RESPONSE_MEDIA_TYPE in accept else "application/json"
    )
    return error_response(
        Unauthenticated(reason),
        401,
        content_type=media_type,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
