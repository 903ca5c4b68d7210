"""A result that met a database fault: it becomes ``data: null`` with one coded error.

A resolver that fails half-way on a lost connection must not leave the rows that did
load: the whole result becomes ``data: null`` with one ``SERVICE_UNAVAILABLE`` error, and
the HTTP status is 503.
"""

from __future__ import annotations

from typing import Any, Protocol

from graphql import GraphQLError

from fieldgate.infra.faults import DatabaseFault, database_fault, unavailable_error


class Result(Protocol):
    """An execution result (graphql-core's or Strawberry's)."""

    data: Any
    errors: list[GraphQLError] | None


def withhold_on_database_fault(result: Result) -> DatabaseFault | None:
    """Replace a result that met a database fault with ``data: null`` and one error.

    Returns the fault when it did: rows that loaded before it never leave (no partial data).
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
            return fault
    return None
