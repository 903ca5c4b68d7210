"""``fieldgate policy export | import | reload`` against a real database (SQLite, PostgreSQL)."""

from __future__ import annotations

import asyncio
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
    imported = await invoke(["policy", "import", str(PACKAGED_POLICY_DIR / "policy.csv")])
    assert imported.exit_code == 0, imported.output
    result = await invoke(["policy", "reload"])
    assert result.exit_code == 0, result.output
    assert (await stored(database))[1] == 2


async def test_reload_of_an_empty_database_policy_is_refused(database: str) -> None:
    result = await invoke(["policy", "reload"])
    assert result.exit_code == 1
    assert "the policy has no rule" in result.stderr
    assert await stored(database) == ([], 0)


async def test_export_with_files_prints_the_folders_rules(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDGATE_POLICY_SOURCE", "files")
    result = await invoke(["policy", "export", "-"])
    assert result.exit_code == 0
    assert "p, admin, @policy, *, manage, *, allow" in result.output.splitlines()
    assert not any(line.startswith("#") for line in result.output.splitlines())


async def test_lint_and_explain_read_the_database_policy_in_force(
    database: str, tmp_path: Path
) -> None:
    packaged = (PACKAGED_POLICY_DIR / "policy.csv").read_text(encoding="utf-8")
    source = tmp_path / "policy.csv"
    source.write_text(packaged + f"\n{DENY_PHONE}\n", encoding="utf-8")
    assert (await invoke(["policy", "import", str(source)])).exit_code == 0

    explained = await invoke(
        ["policy", "explain", "--role", "support_agent", "--purpose", "CUSTOMER_SUPPORT"]
    )
    assert explained.exit_code == 0, explained.output
    assert "of the database, roles support_agent" in explained.stderr
    phone = next(line for line in explained.stdout.splitlines() if "Order.buyerPhone " in line)
    assert "DENIED" in phone and "MASKED" not in phone  # the database's deny, not the folder's

    linted = await invoke(["policy", "lint"])
    assert linted.exit_code == 0, linted.output
    assert " of the database is valid: " in linted.stdout


async def test_lint_names_the_problems_of_the_database_rules(database: str) -> None:
    engine = create_engine(database)
    try:
        store = DatabasePolicyStore(engine)  # written by hand, past every check
        packaged = (PACKAGED_POLICY_DIR / "policy.csv").read_text(encoding="utf-8")
        lines = [line for line in packaged.splitlines() if line and not line.startswith("#")]
        await store.replace(
            [*lines, "p, support_agent, Order.buyerPhnoe, *, full, *, deny"],
            version="hand-written",
            changed_by="test",
            note="",
        )
    finally:
        await engine.dispose()
    linted = await invoke(["policy", "lint"])
    assert linted.exit_code == 1
    assert f"line {len(lines) + 1}: unknown field 'Order.buyerPhnoe'" in linted.stderr


async def test_with_an_empty_database_lint_says_it_reads_the_folder(database: str) -> None:
    linted = await invoke(["policy", "lint"])
    assert linted.exit_code == 0, linted.output
    assert "(the database has no rules yet: it is seeded from them) is valid" in linted.stdout


async def test_an_import_that_locks_out_or_names_an_unknown_field_is_refused(
    database: str, tmp_path: Path
) -> None:
    packaged = (PACKAGED_POLICY_DIR / "policy.csv").read_text(encoding="utf-8")
    cases = {
        "": "the policy has no rule",
        "# only a note\n": "the policy has no rule",
        packaged.replace("p, admin, @policy, *, manage, *, allow", ""): "no role may manage",
        packaged + "p, support_agent, Order.buyerPhnoe, *, full, *, deny\n": "unknown field",
    }
    source = tmp_path / "policy.csv"
    for text, problem in cases.items():
        source.write_text(text, encoding="utf-8")
        result = await invoke(["policy", "import", str(source)])
        assert result.exit_code == 1
        assert problem in result.stderr
    assert await stored(database) == ([], 0)


async def test_matrix_reads_the_database_policy(database: str, tmp_path: Path) -> None:
    source = tmp_path / "policy.csv"
    packaged = (PACKAGED_POLICY_DIR / "policy.csv").read_text(encoding="utf-8")
    source.write_text(packaged + f"\n{DENY_PHONE}\n", encoding="utf-8")
    assert (await invoke(["policy", "import", str(source)])).exit_code == 0
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
    assert matrix.exit_code == 0, matrix.output
    [phone] = [line for line in matrix.output.splitlines() if line.startswith("Order.buyerPhone,")]
    assert ",DENIED," in phone  # the folder's policy masks it
