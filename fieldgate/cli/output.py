"""What every command group prints: errors, aligned tables and moments."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import NoReturn

import typer


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` to stderr and leave with ``code`` (1: failed, 2: bad usage)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Plain text with aligned columns; the last column is not padded."""
    lines = [list(headers), *(list(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers) - 1)]
    return "\n".join(
        "  ".join([*map(str.ljust, line[:-1], widths), line[-1]]).rstrip() for line in lines
    )


def when(moment: datetime) -> str:
    """``moment`` in UTC, to the second (``2026-01-31T12:00:00Z``)."""
    # SQLite hands back naive datetimes; every stored time is UTC
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
