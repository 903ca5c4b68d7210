"""Fixtures shared by every test: fresh databases on SQLite and PostgreSQL.

A test that takes ``backend`` (directly or through ``empty_database_url`` /
``migrated_database_url``) runs twice, once per database. The PostgreSQL run carries the
``postgres`` marker and is skipped, saying why, unless ``FIELDGATE_TEST_POSTGRES_URL``
names a server where the test user may create databases. Every database made here is a
new one, so tests never share rows by accident; PostgreSQL databases are dropped when
the session ends, SQLite files live in the session's temporary folder.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from sqlalchemy import pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from fieldgate.infra.migrate import upgrade

pytest_plugins = ["tests.gateway"]

POSTGRES_ENV = "FIELDGATE_TEST_POSTGRES_URL"
POSTGRES_SKIP = f"{POSTGRES_ENV} is not set: PostgreSQL tests skipped"

DatabaseFactory = Callable[[str], Awaitable[str]]
"""``await make("sqlite" | "postgres")`` returns the URL of a new, empty database."""


def _postgres_url_or_skip() -> str:
    url = os.environ.get(POSTGRES_ENV, "").strip()
    if not url:
        pytest.skip(POSTGRES_SKIP)
    # Tests speak asyncpg whatever driver the variable names.
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(False)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL server for tests (asyncpg URL), or skip the test."""
    return _postgres_url_or_skip()


@pytest.fixture(scope="session")
async def database_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[DatabaseFactory]:
    """Make new empty databases; PostgreSQL ones are dropped at the end of the session."""
    folder = tmp_path_factory.mktemp("databases")
    admin: AsyncEngine | None = None
    created: list[str] = []

    async def make(backend: str) -> str:
        nonlocal admin
        name = f"fieldgate_t_{secrets.token_hex(8)}"
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{folder / name}.db"
        if backend != "postgres":
            raise ValueError(f"unknown backend {backend!r}")
        server = _postgres_url_or_skip()
        if admin is None:
            # CREATE/DROP DATABASE cannot run inside a transaction.
            admin = create_async_engine(
                server, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool
            )
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return make_url(server).set(database=name).render_as_string(hide_password=False)

    yield make

    if admin is not None:
        async with admin.connect() as connection:
            for name in created:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def backend(request: pytest.FixtureRequest) -> str:
    """``"sqlite"`` or ``"postgres"``: a test using it runs on both databases."""
    name: str = request.param
    if name == "postgres":
        _postgres_url_or_skip()
    return name


@pytest.fixture
async def empty_database_url(backend: str, database_factory: DatabaseFactory) -> str:
    """A new empty database (no tables, not even Alembic's) for this test alone."""
    return await database_factory(backend)


@pytest.fixture(scope="session")
def _migrated_databases() -> dict[str, str]:
    return {}


@pytest.fixture
async def migrated_database_url(
    backend: str,
    database_factory: DatabaseFactory,
    _migrated_databases: dict[str, str],
) -> str:
    """A database at the head revision, migrated once per backend and shared by the session.

    Tests that write to it must not rely on it being empty, nor on rows others wrote:
    use unique names, or ``empty_database_url`` plus ``upgrade`` for a private one.
    """
    if backend not in _migrated_databases:
        url = await database_factory(backend)
        # Alembic runs on synchronous drivers: keep it off the event loop.
        await asyncio.to_thread(upgrade, url)
        _migrated_databases[backend] = url
    return _migrated_databases[backend]
