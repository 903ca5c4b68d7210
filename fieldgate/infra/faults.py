"""Database faults: recognising, in an exception and its causes, that the database could not
serve (lost connection, shutdown, statement or pool timeout) rather than refused a query."""

from __future__ import annotations

import asyncio
from enum import StrEnum

from redis.exceptions import RedisError
from sqlalchemy import exc as sa_exc

from fieldgate.errors import FieldgateError, ServiceUnavailable
from fieldgate.infra.redis import redis_failure

# SQLSTATE classes and codes that mean "the database cannot serve now", not "bad query".
_UNAVAILABLE_STATES = ("08", "53", "57P", "58")  # connection, resources, shutdown, system
_TIMEOUT_STATES = ("57014",)  # query_canceled: the statement timeout fired
_MAX_CHAIN = 8


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
    """The error a client sees for ``fault``: the kind of fault, never the driver's text."""
    if fault is DatabaseFault.TIMEOUT:
        return ServiceUnavailable("the database did not answer in time", reason=fault.value)
    return ServiceUnavailable("the database is unavailable", reason=fault.value)


def failure_reason(error: BaseException) -> str:
    """The reason code a failure of a background task is logged with: a database fault's,
    a Redis failure's, an error code in lower case, else ``unexpected`` (the log line
    then gets an ``error_id``); never the exception's class or text."""
    if isinstance(error, RedisError):
        return redis_failure(error)
    fault = database_fault(error)
    if fault is not None:
        return fault.value
    if isinstance(error, FieldgateError):
        return error.code.lower()
    return "unexpected"
