"""Database faults: recognising, in an exception and its causes, that the database could not
serve (lost connection, shutdown, statement or pool timeout) rather than refused a query."""

from __future__ import annotations

import asyncio
from enum import StrEnum

from redis.exceptions import RedisError
from sqlalchemy import exc as sa_exc

from fieldgate.errors import BadUserInput, Conflict, FieldgateError, ServiceUnavailable
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


def _operational_fault(error: sa_exc.DBAPIError) -> DatabaseFault | None:
    # SQLite reports a busy database ("database is locked") once its busy timeout passed,
    # and a value it refuses ("string or blob too big", "LIKE or GLOB pattern too
    # complex") as an operational error too: that is bad input, not an outage.
    text = str(error.orig) if error.orig is not None else ""
    if _sqlite_refusal(error):
        return None
    return (
        DatabaseFault.TIMEOUT if "locked" in text or "busy" in text else DatabaseFault.UNREACHABLE
    )


_SQLITE_INPUT_REFUSALS = ("too big", "too complex", "too many", "out of range")


def refused_input(error: BaseException | None) -> FieldgateError | None:
    """The coded error for a statement the database refused because of the values in it
    (following causes), or None for other errors.

    A value past a column's width or range, a character the database cannot store, or a
    text SQLite finds too big is ``BAD_USER_INPUT``; a row that breaks a unique or foreign
    key constraint is ``CONFLICT``. The driver's text, which may quote the value, never
    leaves.
    """
    seen = 0
    while error is not None and seen < _MAX_CHAIN:
        state = _sqlstate(error) or _sqlstate(getattr(error, "orig", None))
        if isinstance(error, sa_exc.IntegrityError) or state.startswith("23"):
            return Conflict("the change conflicts with stored data")
        if isinstance(error, sa_exc.DataError) or state.startswith("22"):
            return BadUserInput("a value does not fit where it is stored")
        if isinstance(error, sa_exc.OperationalError) and _sqlite_refusal(error):
            return BadUserInput("a value is too large for the database")
        seen += 1
        error = error.__cause__ or error.__context__
    return None


def _sqlite_refusal(error: sa_exc.DBAPIError) -> bool:
    text = str(error.orig) if error.orig is not None else ""
    return any(refusal in text for refusal in _SQLITE_INPUT_REFUSALS)


def _sqlstate(error: BaseException | None) -> str:
    state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return state if isinstance(state, str) else ""


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
