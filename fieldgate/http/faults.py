"""The HTTP answer to a database fault that escaped the application: a 503 with one coded
error instead of data (recognising the fault is :mod:`fieldgate.infra.faults`)."""

from __future__ import annotations

import orjson
from starlette.responses import Response

from fieldgate.infra.faults import DatabaseFault, unavailable_error


def unavailable_response(fault: DatabaseFault, media_type: str = "application/json") -> Response:
    """A 503 GraphQL-shaped body with ``data: null`` and one ``SERVICE_UNAVAILABLE`` error."""
    error = unavailable_error(fault)
    body = {
        "data": None,
        "errors": [
            {"message": error.message, "extensions": {"code": error.code, **error.extensions}}
        ],
    }
    return Response(
        orjson.dumps(body),
        status_code=503,
        headers={"Retry-After": "1"},
        media_type=f"{media_type}; charset=utf-8",
    )
