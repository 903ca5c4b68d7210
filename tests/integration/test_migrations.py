"""The Alembic migrations build exactly the schema of fieldgate.models, on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, pool, text

from fieldgate.infra.db import sync_url
from fieldgate.infra.migrate import alembic_config, current_revision, upgrade
from fieldgate.models import metadata


def head_revision(database_url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    assert head is not None
    return head


def schema_differences(database_url: str) -> list[Any]:
    """What autogenerate would write to bring the database to the models (empty: in step)."""
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def schema_snapshot(database_url: str) -> dict[str, Any]:
    """Tables with their columns and indexes, to tell whether anything changed."""
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            return {
                table: (
                    [
                        (c["name"], str(c["type"]), c["nullable"])
                        for c in inspector.get_columns(table)
                    ],
                    sorted(i["name"] or "" for i in inspector.get_indexes(table)),
                )
                for table in sorted(inspector.get_table_names())
            }
    finally:
        engine.dispose()


def execute(database_url: str, statement: str, **params: Any) -> list[Any]:
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(statement), params)
            return list(result) if result.returns_rows else []
    finally:
        engine.dispose()


async def test_comparison_sees_a_database_without_tables(empty_database_url: str) -> None:
    # Guards the tests below: an empty comparison must mean "in step", not "compared nothing".
    differences = await asyncio.to_thread(schema_differences, empty_database_url)
    added = {diff[1].name for diff in differences if diff[0] == "add_table"}
    assert added == set(metadata.tables)


async def test_upgrade_builds_every_table_and_column(empty_database_url: str) -> None:
    assert await asyncio.to_thread(current_revision, empty_database_url) is None

    await asyncio.to_thread(upgrade, empty_database_url)

    snapshot = await asyncio.to_thread(schema_snapshot, empty_database_url)
    assert set(snapshot) == {*metadata.tables, "alembic_version"}
    for name, table in metadata.tables.items():
        assert [column[0] for column in snapshot[name][0]] == [c.name for c in table.columns]
    assert await asyncio.to_thread(schema_differences, empty_database_url) == []


async def test_second_upgrade_changes_nothing(empty_database_url: str) -> None:
    await asyncio.to_thread(upgrade, empty_database_url)
    before = await asyncio.to_thread(schema_snapshot, empty_database_url)
    await asyncio.to_thread(
        execute,
        empty_database_url,
        "INSERT INTO partners (name, kind, region, allowed_purposes, active, created_at)"
        " VALUES (:name, 'logistics', 'CN', '', true, :at)",
        name="kept",
        at=datetime(2024, 1, 1, tzinfo=UTC),
    )

    await asyncio.to_thread(upgrade, empty_database_url)

    assert await asyncio.to_thread(schema_snapshot, empty_database_url) == before
    rows = await asyncio.to_thread(execute, empty_database_url, "SELECT name FROM partners")
    assert [row[0] for row in rows] == ["kept"]
    versions = await asyncio.to_thread(
        execute, empty_database_url, "SELECT version_num FROM alembic_version"
    )
    assert [row[0] for row in versions] == [head_revision(empty_database_url)]


async def test_current_revision_is_head_after_upgrade(empty_database_url: str) -> None:
    await asyncio.to_thread(upgrade, empty_database_url)

    head = head_revision(empty_database_url)
    assert await asyncio.to_thread(current_revision, empty_database_url) == head


async def test_downgrade_to_base_removes_every_table(empty_database_url: str) -> None:
    await asyncio.to_thread(upgrade, empty_database_url)

    await asyncio.to_thread(command.downgrade, alembic_config(empty_database_url), "base")

    snapshot = await asyncio.to_thread(schema_snapshot, empty_database_url)
    assert set(snapshot) <= {"alembic_version"}
    assert await asyncio.to_thread(current_revision, empty_database_url) is None


async def test_migrated_database_fixture_is_at_head(migrated_database_url: str) -> None:
    head = head_revision(migrated_database_url)
    assert await asyncio.to_thread(current_revision, migrated_database_url) == head


def test_upgrade_creates_the_sqlite_folder(tmp_path: Path) -> None:
    database = tmp_path / "nested" / "var" / "fieldgate.db"

    upgrade(f"sqlite+aiosqlite:///{database}")

    assert database.is_file()
    assert current_revision(f"sqlite+aiosqlite:///{database}") is not None


def test_current_revision_does_not_create_a_sqlite_file(tmp_path: Path) -> None:
    database = tmp_path / "absent" / "fieldgate.db"

    assert current_revision(f"sqlite+aiosqlite:///{database}") is None
    assert not database.parent.exists()
