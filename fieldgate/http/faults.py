"""The HTTP answer to a database fault that escaped the application: a 503 with one coded
error instead of data (recognising the fault is :mod:`fieldgate.infra.faults`)."""

from __future__ import annotations

from starlette.responses import Response

from fieldgate.http.envelope import error_response
from fieldgate.infra.faults import DatabaseFault, unavailable_error


def unavailable_response(fault: DatabaseFault, media_type: str = "application/json") -> Response:
    """A 503 GraphQL-shaped body with ``data: null`` and one ``SERVICE_UNAVAILABLE`` error."""
    return error_response(
        unavailable_error(fault),
        503,
        content_type=f"{media_type}; charset=utf-8",
        headers={"Retry-After": "1"},
    )
