"""Refusals at the HTTP edge: a status, and a GraphQL-shaped body whose error has a code."""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

from fieldgate.errors import FieldgateError


class HTTPRefusal(Exception):
    """Refuse the request with ``status``; ``error`` gives the code and the message."""

    def __init__(
        self, status: int, error: FieldgateError, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(error.message)
        self.status = status
        self.error = error
        self.headers = dict(headers or {})


def refusal_response(refusal: HTTPRefusal, media_type: str) -> Response:
    """The answer to a refused request: ``{"errors": [...]}``, no ``data`` (nothing ran)."""
    error = refusal.error
    body = {
        "errors": [
            {"message": error.message, "extensions": {"code": error.code, **error.extensions}}
        ]
    }
    return Response(
        orjson.dumps(body),
        status_code=refusal.status,
        headers=refusal.headers,
        media_type=f"{media_type}; charset=utf-8",
    )
