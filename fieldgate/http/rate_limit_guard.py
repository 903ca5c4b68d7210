"""The request limit in front of ``/graphql``: 429 with ``Retry-After`` once a token, a
partner or an anonymous client IP has sent its requests of the minute.

It runs after authentication (it counts per token and per partner) and before GraphQL
parses anything. The query-cost limit needs the parsed operation: ``schema.rate_cost``.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from fieldgate.errors import RateLimited
from fieldgate.http.auth import principal_of
from fieldgate.http.media import JSON, response_media_type
from fieldgate.http.refusals import HTTPRefusal, refusal_response
from fieldgate.ratelimit.limiter import Exceeded, RateLimiter, principal_keys


def rate_limited(exceeded: Exceeded) -> HTTPRefusal:
    """The 429 refusal for ``exceeded``."""
    error = RateLimited(
        f"rate limit exceeded ({exceeded.limit} per minute)",
        limit=exceeded.limit,
        retryAfter=exceeded.retry_after,
    )
    return HTTPRefusal(429, error, headers={"Retry-After": str(exceeded.retry_after)})


def scope_keys(scope: Scope) -> tuple[str, ...]:
    """The rate-limit keys of a request whose principal authentication set."""
    principal = principal_of(scope)
    client = scope.get("client")
    return principal_keys(principal, client[0] if client else None)


class RateLimitGuard:
    """ASGI middleware counting the requests to ``path``."""

    def __init__(self, app: ASGIApp, *, path: str, limiter: RateLimiter) -> None:
        self.app = app
        self.path = path
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        exceeded = await self.limiter.charge_request(scope_keys(scope))
        if exceeded is not None:
            media_type = response_media_type(Headers(scope=scope).get("accept")) or JSON
            await refusal_response(rate_limited(exceeded), media_type)(scope, receive, send)
            return
        await self.app(scope, receive, send)
