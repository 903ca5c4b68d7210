"""Authentication at the edge: the Starlette backend that turns a Bearer token into a
``Principal``, and the 401 answer to a refused one.

Starlette keeps the authenticated caller in ``scope["user"]`` as a ``BaseUser``; the
engine's ``Principal`` is plain data, so it travels inside ``AuthenticatedUser`` and every
reader takes it back out with ``principal_of``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
)
from starlette.requests import HTTPConnection
from starlette.responses import Response

from fieldgate.authz.principal import ANONYMOUS, Principal
from fieldgate.errors import Unauthenticated
from fieldgate.http.envelope import error_response
from fieldgate.http.media import GRAPHQL_MEDIA_TYPE, JSON
from fieldgate.identity.revocations import RevocationChecker
from fieldgate.identity.tokens import TokenService


@dataclass(frozen=True, slots=True)
class AuthenticatedUser(BaseUser):
    """Starlette's view of a request's principal (``request.user``)."""

    principal: Principal

    @property
    def is_authenticated(self) -> bool:
        return self.principal.is_authenticated

    @property
    def display_name(self) -> str:
        return self.principal.name

    @property
    def identity(self) -> str:
        return self.principal.identity


def principal_of(scope: Mapping[str, Any]) -> Principal:
    """The principal authentication put in an ASGI scope; anonymous when there is none."""
    user = scope.get("user")
    return user.principal if isinstance(user, AuthenticatedUser) else ANONYMOUS


class TokenRejected(AuthenticationError):
    """A presented token was refused; ``reason`` is the machine-readable cause."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenAuthBackend(AuthenticationBackend):
    """``Authorization: Bearer <token>`` → verified, unrevoked ``Principal`` of an active
    staff member or partner or an open account.

    No header means the anonymous principal; a header that is present but wrong is an
    error, never a silent fall-back to anonymous.
    """

    def __init__(self, tokens: TokenService, revocations: RevocationChecker) -> None:
        self._tokens = tokens
        self._revocations = revocations

    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, AuthenticatedUser]:
        """Authenticate one request; raises ``TokenRejected`` when its token is refused."""
        header = conn.headers.get("authorization")
        if header is None:
            return AuthCredentials([]), AuthenticatedUser(ANONYMOUS)
        token = bearer_token(header)
        if token is None:
            raise TokenRejected("malformed")
        try:
            principal = self._tokens.verify(token)
        except Unauthenticated as exc:
            raise TokenRejected(exc.reason) from None
        refusal = await self._revocations.refusal(principal)
        if refusal is not None:  # revoked, or its staff member, partner or account no more
            raise TokenRejected(refusal)
        return AuthCredentials(sorted(principal.roles)), AuthenticatedUser(principal)


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
    media_type = GRAPHQL_MEDIA_TYPE if GRAPHQL_MEDIA_TYPE in accept else JSON
    return error_response(
        Unauthenticated(reason),
        401,
        content_type=media_type,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
