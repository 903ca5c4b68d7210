"""The guard in front of ``/graphql``: what may not reach GraphQL at all.

It runs before authentication, so that refusing costs no token check and no database
query: a method other than GET or POST (405), a body over the size limit (413, from
``Content-Length`` and again while the body is read, before any JSON parsing), a POST
that is not ``application/json`` (415: what a cross-site form can send without a
preflight never runs), and an ``Accept`` that allows no answer GraphQL gives (406).
"""

from __future__ import annotations

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fieldgate.errors import MethodNotAllowed, NotAcceptable, RequestTooLarge, UnsupportedMediaType
from fieldgate.http.media import JSON, is_json_request, response_media_type
from fieldgate.http.refusals import HTTPRefusal, refusal_response

METHODS = ("GET", "POST")


class RequestGuard:
    """ASGI middleware guarding the GraphQL endpoint at ``path``."""

    def __init__(self, app: ASGIApp, *, path: str, max_body_bytes: int) -> None:
        self.app = app
        self.path = path
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        media_type = response_media_type(headers.get("accept")) or JSON
        try:
            self.check(scope, headers)
        except HTTPRefusal as refusal:
            await refusal_response(refusal, media_type)(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, self._limited(receive), watch)
        except HTTPRefusal as refusal:  # the body outgrew the limit while being read
            if started:
                raise
            await refusal_response(refusal, media_type)(scope, receive, send)

    def check(self, scope: Scope, headers: Headers) -> None:
        """Raise ``HTTPRefusal`` for what the headers alone condemn."""
        method = scope["method"]
        if method not in METHODS:
            raise HTTPRefusal(
                405,
                MethodNotAllowed(f"{self.path} accepts GET and POST"),
                headers={"Allow": ", ".join(METHODS)},
            )
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            raise self._too_large()
        if method == "POST" and not is_json_request(headers.get("content-type")):
            raise HTTPRefusal(415, UnsupportedMediaType("send the operation as application/json"))
        if _asks_for_the_ide(method, scope, headers):
            return  # GraphiQL's page, or 404 where it is off
        if response_media_type(headers.get("accept")) is None:
            raise HTTPRefusal(
                406,
                NotAcceptable("accept application/graphql-response+json or application/json"),
            )

    def _limited(self, receive: Receive) -> Receive:
        left = self.max_body_bytes

        async def receive_within_limit() -> Message:
            nonlocal left
            message = await receive()
            if message["type"] == "http.request":
                left -= len(message.get("body", b""))
                if left < 0:
                    raise self._too_large()
            return message

        return receive_within_limit

    def _too_large(self) -> HTTPRefusal:
        limit = self.max_body_bytes
        return HTTPRefusal(413, RequestTooLarge(f"the body exceeds {limit} bytes", limit=limit))


def _asks_for_the_ide(method: str, scope: Scope, headers: Headers) -> bool:
    """A browser opening ``/graphql``: GET, no operation, HTML accepted (as Strawberry
    decides whether to serve GraphiQL)."""
    if method != "GET" or "query" in QueryParams(scope.get("query_string", b"")):
        return False
    accept = headers.get("accept", "")
    return "text/html" in accept or "*/*" in accept
