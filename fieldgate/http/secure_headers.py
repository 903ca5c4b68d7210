"""Headers that harden every response for browsers."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fieldgate.http.media import GRAPHQL_MEDIA_TYPE, JSON

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# Two years, the value browsers' preload lists expect; production runs behind HTTPS.
HSTS = "max-age=63072000; includeSubDomains"


class SecureHeaders:
    """ASGI middleware: ``nosniff``, no referrer, no framing on every response;
    ``Cache-Control: no-store`` under ``no_store_path`` (answers are per caller);
    ``Strict-Transport-Security`` in production only (development is plain HTTP on
    localhost, where HSTS would stick to the browser). JSON answers name their charset."""

    def __init__(self, app: ASGIApp, *, production: bool, no_store_path: str) -> None:
        self.app = app
        self.headers = dict(ALWAYS)
        if production:
            self.headers["Strict-Transport-Security"] = HSTS
        self.no_store_path = no_store_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        no_store = path == self.no_store_path or path.startswith(self.no_store_path + "/")

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.update(self.headers)
                if no_store:
                    headers["Cache-Control"] = "no-store"
                if headers.get("content-type") in (JSON, GRAPHQL_MEDIA_TYPE):
                    headers["Content-Type"] = headers["content-type"] + "; charset=utf-8"
            await send(message)

        await self.app(scope, receive, send_hardened)
