"""Schema migrations: run Alembic programmatically against a database URL.

The Alembic scripts live in ``migrations/`` at the repository root. A new revision is
written with ``alembic.command.revision(alembic_config(url), message, autogenerate=True)``
against a database already at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import make_url

import fieldgate
from fieldgate.infra.db import sync_url

MIGRATIONS_DIR = Path(fieldgate.__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for ``database_url`` (async or sync driver), with no ini file."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Passed as an attribute, not a main option: URLs may hold '%' (ConfigParser syntax).
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` to ``revision``; a no-op when it is there."""
    _ensure_sqlite_folder(database_url)
    command.upgrade(alembic_config(database_url), revision)


def current_revision(database_url: str) -> str | None:
    """The revision the database is at, or ``None`` when it has never been migrated."""
    sqlite_file = _sqlite_file(database_url)
    if sqlite_file is not None and not sqlite_file.exists():
        return None  # reading must not create the file
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def _sqlite_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _ensure_sqlite_folder(database_url: str) -> None:
    # SQLite creates the file on first connect, but not the folder it sits in.
    sqlite_file = _sqlite_file(database_url)
    if sqlite_file is not None:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
