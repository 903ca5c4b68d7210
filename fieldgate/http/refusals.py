"""Refusals at the HTTP edge: a status, and a GraphQL-shaped body whose error has a code."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from fieldgate.errors import FieldgateError
from fieldgate.http.envelope import error_response


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
    return error_response(
        refusal.error,
        refusal.status,
        content_type=f"{media_type}; charset=utf-8",
        with_data=False,
        headers=refusal.headers,
    )
