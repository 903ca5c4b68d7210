"""Database faults: recognise them, and answer with one coded error instead of data.

A resolver that fails half-way on a lost connection must not leave the rows that did
load: the whole result becomes ``data: null`` with one ``SERVICE_UNAVAILABLE`` error, and
the HTTP status is 503. Messages name the kind of fault only, never the driver's text.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Any, Protocol

import orjson
from graphql import GraphQLError
from sqlalchemy import exc as sa_exc
from starlette.responses import Response

from fieldgate.errors import ServiceUnavailable

# SQLSTATE classes and codes that mean "the database cannot serve now", not "bad query".
_UNAVAILABLE_STATES = ("08", "53", "57P", "58")  # connection, resources, shutdown, system
_TIMEOUT_STATES = ("57014",)  # query_canceled: the statement timeout fired
_MAX_CHAIN = 8


class Result(Protocol):
    """An execution result (graphql-core's or Strawberry's)."""

    data: Any
    errors: list[GraphQLError] | None


class DatabaseFault(StrEnum):
    """Why the database could not answer (``extensions.reason``)."""

    UNREACHABLE = "database_unreachable"
    TIMEOUT = "database_timeout"


def database_fault(error: BaseException | None) -> DatabaseFault | None:
    """The database fault behind ``error`` (following causes), or None for other errors."""
    seen = 0
    while error is not None and seen < _MAX_CHAIN:
        fault = _fault_of(error)
        if fault is not None:
            return fault
        seen += 1
        error = error.__cause__ or error.__context__
    return None


def _fault_of(error: BaseException) -> DatabaseFault | None:
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(state, str):
        if state.startswith(_TIMEOUT_STATES):
            return DatabaseFault.TIMEOUT
        if state.startswith(_UNAVAILABLE_STATES):
            return DatabaseFault.UNREACHABLE
    if isinstance(error, sa_exc.TimeoutError | TimeoutError | asyncio.TimeoutError):
        return DatabaseFault.TIMEOUT  # pool checkout or client-side command timeout
    if isinstance(error, sa_exc.DBAPIError):
        if error.connection_invalidated:
            return DatabaseFault.UNREACHABLE
        orig = error.orig
        if orig is not None and (inner := _fault_of(orig)) is not None:
            return inner
        if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
            return _operational_fault(error)
        return None
    if isinstance(error, OSError | ConnectionError):
        return DatabaseFault.UNREACHABLE
    return None


def _operational_fault(error: sa_exc.DBAPIError) -> DatabaseFault:
    # SQLite reports a busy database ("database is locked") once its busy timeout passed.
    text = str(error.orig) if error.orig is not None else ""
    return (
        DatabaseFault.TIMEOUT if "locked" in text or "busy" in text else DatabaseFault.UNREACHABLE
    )


def unavailable_error(fault: DatabaseFault) -> ServiceUnavailable:
    """The error a client sees for ``fault``."""
    if fault is DatabaseFault.TIMEOUT:
        return ServiceUnavailable("the database did not answer in time", reason=fault.value)
    return ServiceUnavailable("the database is unavailable", reason=fault.value)


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


def withhold_on_database_fault(result: Result) -> bool:
    """Replace a result that met a database fault with ``data: null`` and one error.

    True when it did: rows that loaded before the fault never leave (no partial data).
    """
    for error in result.errors or ():
        fault = database_fault(error.original_error)
        if fault is not None:
            unavailable = unavailable_error(fault)
            result.data = None
            result.errors = [
                GraphQLError(
                    unavailable.message,
                    extensions={"code": unavailable.code, **unavailable.extensions},
                )
            ]
            return True
    return False
