"""Async engine and sessions: SQLite (aiosqlite) by default, PostgreSQL (asyncpg)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from fieldgate.settings import Settings


def create_engine(database_url: str, **kwargs: Any) -> AsyncEngine:
    """Build the async engine; for SQLite, create the file's folder and enable foreign keys."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def engine_options(settings: Settings) -> dict[str, Any]:
    """Pool bounds and timeouts from the settings, as ``create_engine`` keywords.

    A slow database then fails a statement after ``statement_timeout_ms`` (PostgreSQL:
    the server's ``statement_timeout``, with asyncpg's ``command_timeout`` as a backstop
    when the server does not answer at all; SQLite: its busy timeout), and requests wait
    at most ``pool_timeout`` seconds for a connection instead of piling up.
    """
    url = make_url(settings.database_url)
    seconds = settings.statement_timeout_ms / 1000
    if url.get_backend_name() == "sqlite":
        options: dict[str, Any] = {"connect_args": {"timeout": seconds}}
        if url.database in (None, "", ":memory:"):
            return options  # one shared connection: there is no pool to bound
    elif url.get_backend_name() == "postgresql" and url.get_driver_name() == "asyncpg":
        options = {
            "connect_args": {
                "timeout": settings.connect_timeout,
                "command_timeout": seconds + 1,
                "server_settings": {"statement_timeout": str(settings.statement_timeout_ms)},
            }
        }
    else:
        options = {}
    options.update(
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
    )
    return options


@asynccontextmanager
async def transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One all-or-nothing unit of work: commits on success, rolls back on any error."""
    async with engine.begin() as connection:
        yield connection


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction whose reads may decide its writes; commits when the block ends without
    error, rolls back otherwise.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock before the first read (the
    driver would otherwise read outside any transaction and begin only at the first write),
    so writers run one after the other. PostgreSQL: a plain transaction; lock the rows
    the decision rests on (``SELECT … FOR UPDATE``).
    """
    async with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            await connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            await connection.begin()
        yield connection
        await connection.commit()


@asynccontextmanager
async def locked_transaction(engine: AsyncEngine, key: int) -> AsyncIterator[AsyncConnection]:
    """A transaction that holds a database-wide write lock from its first statement (one
    writer at a time across processes); commits when the block ends without error.

    SQLite: ``BEGIN IMMEDIATE`` takes the write lock before the first read. PostgreSQL: an
    advisory transaction lock on ``key`` (a constant no other lock uses).
    """
    async with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(select(func.pg_advisory_xact_lock(key)))
        yield connection


def sync_url(database_url: str) -> str:
    """The same database with a synchronous driver (for Alembic and bulk tools)."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite").render_as_string(hide_password=False)
    if backend == "postgresql":
        return url.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    return url.render_as_string(hide_password=False)
