"""Browsers on other origins: CORS for exactly the configured origins, nothing for others."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

from fieldgate.errors import ConfigurationError
from fieldgate.settings import CORS_HEADERS_DEFAULT

HEADERS_DEFAULT = tuple(name.strip() for name in CORS_HEADERS_DEFAULT.split(","))

METHODS = ("GET", "POST")
EXPOSED = ("X-Request-Id", "Retry-After")  # response headers the page may read
PREFLIGHT_MAX_AGE = 600  # seconds a browser may reuse a preflight answer


class ListedOriginsCORS(CORSMiddleware):
    """Starlette's CORS, except that a request from an origin not listed passes through
    untouched: Starlette would add ``Access-Control-Allow-Credentials`` to it, and answer
    its preflight with the allowed methods and headers."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = Headers(scope=scope).get("origin") if scope["type"] == "http" else None
        if origin is None or not self.is_allowed_origin(origin):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def check_origins(origins: Sequence[str]) -> None:
    """Refuse a wildcard (credentials are allowed: any site could call with a user's token)
    and an origin without a scheme (a browser never sends one, so it would match nothing)."""
    for origin in origins:
        if "*" in origin:
            raise ConfigurationError("FIELDGATE_CORS_ORIGINS lists exact origins; '*' is refused")
        scheme, _, host = origin.partition("://")
        if scheme not in ("http", "https") or not host or "/" in host:
            raise ConfigurationError(
                f"FIELDGATE_CORS_ORIGINS: {origin!r} is not an origin (scheme://host[:port])"
            )


def cors_middleware(
    origins: Sequence[str], headers: Sequence[str] = HEADERS_DEFAULT
) -> list[Middleware]:
    """The CORS middleware for ``origins`` (none: no CORS at all), allowing the request
    ``headers`` and exposing ``X-Request-Id`` and ``Retry-After``."""
    if not origins:
        return []
    check_origins(origins)
    return [
        Middleware(
            ListedOriginsCORS,
            allow_origins=list(origins),
            allow_credentials=True,
            allow_methods=list(METHODS),
            allow_headers=list(headers),
            expose_headers=list(EXPOSED),
            max_age=PREFLIGHT_MAX_AGE,
        )
    ]
