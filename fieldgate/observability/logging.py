"""Structured JSON logs: one renderer for fieldgate, uvicorn and the libraries.

Every line is one JSON object on stderr. Tracebacks and exception details never reach a
line: a record that carries one loses it, and keeps only an ``error_id`` that the
operator can correlate (the trace itself is not written anywhere, by design).
"""

from __future__ import annotations

import logging
import sys
import uuid
from typing import Any, TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

# Loggers of libraries that log statements, parameters, rules or URLs at INFO/DEBUG.
QUIET_LOGGERS = (
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "asyncio",
    "casbin",
    "multipart",
    "httpx",
    "httpcore",
)
# Keys that can carry a trace, an exception text, a stack or an exception's class name.
TRACE_KEYS = ("exc_info", "exception", "exc_text", "stack", "stack_info", "error_class")


def drop_traces(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Remove tracebacks and exception texts; name the incident with an error id instead."""
    carried = False
    for key in TRACE_KEYS:
        value = event_dict.pop(key, None)
        carried = carried or bool(value)
    if carried and "error_id" not in event_dict:
        event_dict["error_id"] = uuid.uuid4().hex
    return event_dict


def _render(value: Any, **_: Any) -> str:
    return orjson.dumps(value, default=str).decode("utf-8")


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at emit time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Send structlog and standard-library logging through one JSON renderer.

    Called once at the composition root (and by ``fieldgate serve`` before uvicorn
    starts); calling again replaces the previous configuration. ``stream`` defaults to
    stderr. Returns the installed handler.
    """
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        drop_traces,
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(serializer=_render),
        ],
    )
    handler: logging.Handler = (
        logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    )
    handler.setFormatter(formatter)
    handler.set_name("fieldgate-json")
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == "fieldgate-json":
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's own handlers print plain text: its records go to the root's instead
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
