"""Browsers on other origins: CORS for exactly the configured origins, nothing for others."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.types import Receive, Scope, Send

from fieldgate.errors import ConfigurationError

METHODS = ("GET", "POST")
HEADERS = ("Authorization", "Content-Type", "Fieldgate-Strict", "X-Request-Id")
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


def cors_middleware(origins: Sequence[str]) -> list[Middleware]:
    """The CORS middleware for ``origins`` (none: no CORS at all). Credentials are allowed,
    so a wildcard is refused: it would let any site call with a user's token."""
    if not origins:
        return []
    if any("*" in origin for origin in origins):
        raise ConfigurationError("FIELDGATE_CORS_ORIGINS lists exact origins; '*' is refused")
    return [
        Middleware(
            ListedOriginsCORS,
            allow_origins=list(origins),
            allow_credentials=True,
            allow_methods=list(METHODS),
            allow_headers=list(HEADERS),
            max_age=PREFLIGHT_MAX_AGE,
        )
    ]
