"""Access log lines without query strings.

``GET /graphql?query=…&variables=…`` carries the whole operation in its URL, arguments
included, and some arguments are secrets (the ID number of ``userByIdNumber``). The
server's access log keeps the path and drops everything after ``?``.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"
REDACTED = "?…"


class QueryStringRedaction(logging.Filter):
    """Cuts the query string off the request path of uvicorn's access log records.

    uvicorn logs ``(client, method, path with query string, http version, status)`` as
    the record's arguments; any argument that looks like a path loses its query.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_without_query(arg) for arg in args)
        return True


def _without_query(value: object) -> object:
    if isinstance(value, str) and value.startswith("/") and "?" in value:
        return value.split("?", 1)[0] + REDACTED
    return value


def redact_access_log_queries(logger_name: str = ACCESS_LOGGER) -> None:
    """Install :class:`QueryStringRedaction` on the access logger (once per process)."""
    logger = logging.getLogger(logger_name)
    if not any(isinstance(f, QueryStringRedaction) for f in logger.filters):
        logger.addFilter(QueryStringRedaction())
