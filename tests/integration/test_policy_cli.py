"""``fieldgate policy export | import | reload`` against a real database (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from fieldgate.cli import app
from fieldgate.infra.db import create_engine
from fieldgate.infra.migrate import upgrade
from fieldgate.policy_store.database import DatabasePolicyStore
from fieldgate.settings import PACKAGED_POLICY_DIR

DENY_PHONE = "p, support_agent, Order.buyerPhone, *, masked, *, deny"


async def invoke(arguments: list[str]) -> Result:
    def run() -> Result:
        return CliRunner().invoke(app, arguments)

    return await asyncio.to_thread(run)  # the command runs its own event loop


@pytest.fixture
async def database(empty_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A private migrated database, the policy kept in it."""
    await asyncio.to_thread(upgrade, empty_database_url)
    monkeypatch.setenv("FIELDGATE_DATABASE_URL", empty_database_url)
    monkeypatch.setenv("FIELDGATE_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("FIELDGATE_POLICY_SOURCE", "database")
    for name in ("ENV", "REDIS_URL", "POLICY_DIR", "AUDIT_KEY_FILE"):
        monkeypatch.delenv(f"FIELDGATE_{name}", raising=False)
    return empty_database_url


async def stored(url: str) -> tuple[list[str], int]:
    engine = create_engine(url)
    try:
        store = DatabasePolicyStore(engine)
        return await store.read_rules(), await store.newest_revision()
    finally:
        await engine.dispose()


async def test_import_checks_then_writes_and_export_reads_it_back(
    database: str, tmp_path: Path
) -> None:
    source = tmp_path / "policy.csv"
    packaged = (PACKAGED_POLICY_DIR / "policy.csv").read_text(encoding="utf-8")
    source.write_text(packaged + f"\n{DENY_PHONE}\n", encoding="utf-8")

    imported = await invoke(["policy", "import", str(source)])
    assert imported.exit_code == 0, imported.output
    rules, revision = await stored(database)
    assert DENY_PHONE in rules and revision == 1

    exported = tmp_path / "exported.csv"
    result = await invoke(["policy", "export", str(exported)])
    assert result.exit_code == 0, result.output
    assert exported.read_text(encoding="utf-8").splitlines() == rules


async def test_an_invalid_import_names_the_problem_and_writes_nothing(
    database: str, tmp_path: Path
) -> None:
    source = tmp_path / "policy.csv"
    source.write_text("g, support_agent, anonymous\np, support_agent, X.y, *, peek, *, allow\n")
    result = await invoke(["policy", "import", str(source)])
    assert result.exit_code == 1
    assert "unknown act 'peek'" in result.output
    assert await stored(database) == ([], 0)


async def test_reload_adds_a_revision_for_the_instances(database: str) -> None:
    result = await invoke(["policy", "reload"])
    assert result.exit_code == 0, result.output
    assert (await stored(database))[1] == 1


async def test_export_with_files_prints_the_folders_rules(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDGATE_POLICY_SOURCE", "files")
    result = await invoke(["policy", "export", "-"])
    assert result.exit_code == 0
    assert "p, admin, @policy, *, manage, *, allow" in result.output.splitlines()
    assert not any(line.startswith("#") for line in result.output.splitlines())


async def test_explain_lint_and_matrix_read_the_database_policy(
    database: str, tmp_path: Path
) -> None:
    source = tmp_path / "policy.csv"
    packaged = (PACKAGED_POLICY_DIR / "policy.csv").read_text(encoding="utf-8")
    source.write_text(packaged + f"\n{DENY_PHONE}\n", encoding="utf-8")
    assert (await invoke(["policy", "import", str(source)])).exit_code == 0
    explained = await invoke(
        [
            "policy",
            "explain",
            "--role",
            "support_agent",
            "--purpose",
            "CUSTOMER_SUPPORT",
            "--format",
            "json",
        ]
    )
    assert explained.exit_code == 0, explained.output
    [row] = [r for r in json.loads(explained.output)["fields"] if r["field"] == "Order.buyerPhone"]
    assert row["other"] == "DENIED", row
    matrix = await invoke(
        [
            "policy",
            "matrix",
            "--role",
            "support_agent",
            "--purpose",
            "CUSTOMER_SUPPORT",
            "--type",
            "Order",
        ]
    )
    [phone] = [line for line in matrix.output.splitlines() if line.startswith("Order.buyerPhone,")]
    assert ",DENIED," in phone  # the folder's policy masks it
    linted = await invoke(["policy", "lint"])
    assert linted.exit_code == 0, linted.output
