"""Alembic environment for SQLite and PostgreSQL, driven by fieldgate.infra.migrate.

The database URL is given by the caller (``fieldgate.infra.migrate.alembic_config``), never read
from an ini file. Migrations run on the synchronous drivers: ``sqlite`` and ``psycopg2``.
A caller that already holds a synchronous connection may pass it as
``config.attributes["connection"]`` instead.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection, create_engine, make_url

from fieldgate.infra.db import sync_url
from fieldgate.models import metadata

config = context.config


def _database_url() -> str:
    url = config.attributes.get("database_url")
    if not isinstance(url, str) or not url:
        raise RuntimeError("no database URL: run migrations through fieldgate.infra.migrate")
    return sync_url(url)


def _configure(dialect: str, **options: Any) -> None:
    context.configure(
        target_metadata=metadata,
        # SQLite cannot ALTER most things: let Alembic copy-and-move the table instead.
        render_as_batch=dialect == "sqlite",
        compare_type=True,
        **options,
    )


def run_offline() -> None:
    """Emit SQL (``alembic upgrade --sql``) without a connection."""
    url = _database_url()
    _configure(
        make_url(url).get_backend_name(),
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_on(connection: Connection) -> None:
    """Run migrations on one live connection."""
    _configure(connection.dialect.name, connection=connection)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Use the caller's connection, or open one without pooling for this run alone."""
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        run_on(given)
        return
    engine = create_engine(_database_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            run_on(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
