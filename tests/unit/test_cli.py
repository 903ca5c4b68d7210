"""The ``fieldgate`` command: policy lint and explain, token list and issue errors."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

import fieldgate.identity.issuance as issuance
from fieldgate.authz.classification import Catalog
from fieldgate.authz.decisions import DenialReason, Disclosure
from fieldgate.authz.explain import (
    ExplainRow,
    explain,
    principal_kind,
    synthetic_principal,
)
from fieldgate.authz.masking import MaskStrategy
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_loading import load_policy
from fieldgate.authz.principal import PrincipalKind
from fieldgate.authz.purposes import load_purposes
from fieldgate.cli import app
from fieldgate.cli.output import table
from fieldgate.cli.serve import worker_count
from fieldgate.errors import BadUserInput
from fieldgate.models import IssuedToken
from fieldgate.schema import build_schema
from fieldgate.schema.catalog import build_catalog
from fieldgate.schema.explain import parse_operation
from fieldgate.settings import PACKAGED_POLICY_DIR, Settings

ORDER_ID_FOR_FINANCE = "p, finance, Order.id, *, full, any, allow"
QUERY = """
query Support($long: Boolean!) @purpose(name: CUSTOMER_SUPPORT) {
  orders(first: 5) {
    edges { node { id buyerPhone ...Payment remarks @include(if: $long) } }
  }
}
fragment Payment on Order { bankCard buyer { phone } }
"""


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No outside FIELDGATE_* setting leaks in; any database is a file of this test."""
    for name in ("POLICY_DIR", "DATABASE_URL", "ENV", "SIGNING_KEY_FILE", "KEY_DIR"):
        monkeypatch.delenv(f"FIELDGATE_{name}", raising=False)
    monkeypatch.setenv("FIELDGATE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("FIELDGATE_KEY_DIR", str(tmp_path / "keys"))


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(PACKAGED_POLICY_DIR, load_purposes(PACKAGED_POLICY_DIR))


@pytest.fixture(scope="module")
def catalog(policy: Policy) -> Catalog:
    return build_catalog(build_schema()._schema, policy.vocabulary)


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    """A copy of the packaged policy folder that a test may edit."""
    folder = tmp_path / "policy"
    shutil.copytree(PACKAGED_POLICY_DIR, folder)
    return folder


def rewrite_rules(folder: Path, *, drop: str | None = None, add: str | None = None) -> None:
    rules = folder / "policy.csv"
    lines = rules.read_text(encoding="utf-8").splitlines()
    if drop is not None:
        assert drop in lines, "the line to drop is in the packaged policy"
        lines.remove(drop)
    if add is not None:
        lines.append(add)
    rules.write_text("\n".join(lines) + "\n", encoding="utf-8")


def table_rows(output: str) -> dict[str, dict[str, str]]:
    """The rows of ``policy explain``'s table by field; cells are split on 2+ spaces."""
    header, *lines = output.strip().splitlines()
    names = re.split(r" {2,}", header)
    rows = [dict(zip(names, re.split(r" {2,}", line), strict=True)) for line in lines]
    return {row["field"]: row for row in rows}


# --- policy lint -----------------------------------------------------------------------------


def test_lint_passes_on_the_packaged_policy(runner: CliRunner, policy: Policy) -> None:
    result = runner.invoke(app, ["policy", "lint", "--policy-dir", str(PACKAGED_POLICY_DIR)])

    assert result.exit_code == 0, result.output
    assert re.fullmatch(
        rf"policy {policy.version} is valid: \d+ rules, 13 roles, \d+ classified fields\n",
        result.stdout,
    )


def test_lint_names_a_non_null_field_that_a_role_can_be_denied(
    runner: CliRunner, policy_copy: Path
) -> None:
    rewrite_rules(policy_copy, drop=ORDER_ID_FOR_FINANCE)

    result = runner.invoke(app, ["policy", "lint", "--policy-dir", str(policy_copy)])

    assert result.exit_code == 1
    assert "Order.id is non-null but role finance can be denied it" in result.stderr
    assert result.stdout == ""


def test_lint_names_an_unknown_purpose_and_its_line(runner: CliRunner, policy_copy: Path) -> None:
    rewrite_rules(policy_copy, add="p, finance, Order.status, FUNDRAISING, full, any, allow")
    line_number = len((policy_copy / "policy.csv").read_text(encoding="utf-8").splitlines())

    result = runner.invoke(app, ["policy", "lint", "--policy-dir", str(policy_copy)])

    assert result.exit_code == 1
    assert f"line {line_number}: unknown purpose 'FUNDRAISING'" in result.stderr


def test_lint_prints_every_problem_on_its_own_line(runner: CliRunner, policy_copy: Path) -> None:
    rewrite_rules(policy_copy, add="p, finance, Order.status, FUNDRAISING, full, any, allow")
    rewrite_rules(policy_copy, add="p, finance, Order.status, ANALYTICS, look, any, allow")

    result = runner.invoke(app, ["policy", "lint", "--policy-dir", str(policy_copy)])

    assert result.exit_code == 1
    problems = result.stderr.strip().splitlines()
    assert len(problems) == 2
    assert "unknown purpose 'FUNDRAISING'" in problems[0]
    assert "unknown act 'look'" in problems[1]


def test_lint_reports_an_unreadable_vocabulary(runner: CliRunner, policy_copy: Path) -> None:
    (policy_copy / "purposes.toml").write_text("[purposes.ACCOUNT\n", encoding="utf-8")

    result = runner.invoke(app, ["policy", "lint", "--policy-dir", str(policy_copy)])

    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot read purposes.toml")


def test_lint_reads_the_policy_folder_from_the_environment(
    runner: CliRunner, policy_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rewrite_rules(policy_copy, drop=ORDER_ID_FOR_FINANCE)
    monkeypatch.setenv("FIELDGATE_POLICY_DIR", str(policy_copy))

    result = runner.invoke(app, ["policy", "lint"])

    assert result.exit_code == 1
    assert "Order.id" in result.stderr


# --- policy explain --------------------------------------------------------------------------


def test_explain_support_agent_table(runner: CliRunner, catalog: Catalog) -> None:
    result = runner.invoke(
        app, ["policy", "explain", "--role", "support_agent", "--purpose", "CUSTOMER_SUPPORT"]
    )

    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    assert set(rows) == set(catalog.classifications)
    buyer_phone = rows["Order.buyerPhone"]
    assert (buyer_phone["other rows"], buyer_phone["mask"]) == ("MASKED", "PHONE")
    assert buyer_phone["rule"] == (
        "support_agent, Order.buyerPhone, CUSTOMER_SUPPORT, masked, any, allow"
    )
    contact = rows["SupportTicket.contactPhone"]
    assert (contact["other rows"], contact["own rows"], contact["assigned"]) == (
        "MASKED",
        "-",
        "FULL",
    )
    assert "assigned: support_agent, SupportTicket.contactPhone" in contact["rule"]
    bank_card = rows["Order.bankCard"]
    assert (bank_card["other rows"], bank_card["assigned"]) == ("DENIED", "DENIED")
    assert bank_card["reason"] == "PURPOSE_NOT_ALLOWED_FOR_FIELD"
    assert "purpose CUSTOMER_SUPPORT" in result.stderr


def test_explain_user_defaults_to_rights_and_masks_own_id_number(runner: CliRunner) -> None:
    result = runner.invoke(app, ["policy", "explain", "--role", "user"])

    assert result.exit_code == 0, result.output
    id_number = table_rows(result.stdout)["User.idNumber"]
    assert (id_number["own rows"], id_number["mask"]) == ("MASKED", "ID_NUMBER")
    assert id_number["other rows"] == "DENIED"
    assert id_number["assigned"] == "-"
    assert "purpose RIGHTS" in result.stderr


def test_explain_query_limits_rows_and_uses_its_purpose(runner: CliRunner, tmp_path: Path) -> None:
    query = tmp_path / "support.graphql"
    query.write_text(QUERY, encoding="utf-8")

    result = runner.invoke(
        app, ["policy", "explain", "--role", "support_agent", "--query", str(query)]
    )

    assert result.exit_code == 0, result.output
    rows = table_rows(result.stdout)
    # @include fields count whatever the variables; Order.buyer leads to User.phone
    assert set(rows) == {
        "Order.id",
        "Order.buyerPhone",
        "Order.bankCard",
        "Order.buyer",
        "Order.remarks",
        "User.phone",
    }
    assert rows["Order.buyerPhone"]["other rows"] == "MASKED"
    assert "purpose CUSTOMER_SUPPORT" in result.stderr


def test_explain_purpose_option_overrides_the_query(runner: CliRunner, tmp_path: Path) -> None:
    query = tmp_path / "support.graphql"
    query.write_text(QUERY, encoding="utf-8")

    result = runner.invoke(
        app,
        ["policy", "explain", "--role", "finance", "--query", str(query), "--purpose", "PAYMENT"],
    )

    assert result.exit_code == 0, result.output
    bank_card = table_rows(result.stdout)["Order.bankCard"]
    assert (bank_card["other rows"], bank_card["mask"]) == ("MASKED", "BANK_CARD")


def test_explain_json(runner: CliRunner, catalog: Catalog, policy: Policy) -> None:
    result = runner.invoke(
        app,
        [
            "policy",
            "explain",
            "--role",
            "support_agent",
            "--purpose",
            "CUSTOMER_SUPPORT",
            "--format",
            "json",
        ],
    )

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["policy"] == policy.version
    assert document["roles"] == ["support_agent"]
    assert document["purpose"] == "CUSTOMER_SUPPORT"
    assert document["declarable"] is True
    fields = {f["field"]: f for f in document["fields"]}
    assert set(fields) == set(catalog.classifications)
    contact = fields["SupportTicket.contactPhone"]
    assert contact.pop("rule").startswith("support_agent, SupportTicket.contactPhone, ")
    assert contact == {
        "field": "SupportTicket.contactPhone",
        "level": "SENSITIVE",
        "other": "MASKED",
        "owner": None,
        "assigned": "FULL",
        "strategy": "PHONE",
        "reason": None,
    }
    assert fields["Order.bankCard"]["reason"] == "PURPOSE_NOT_ALLOWED_FOR_FIELD"


def test_explain_notes_a_purpose_the_roles_may_not_declare(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["policy", "explain", "--role", "finance", "--purpose", "MARKETING"]
    )

    assert result.exit_code == 0, result.output
    assert "may not declare MARKETING" in result.stderr
    assert table_rows(result.stdout)["Order.buyerPhone"]["other rows"] == "DENIED"


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--role", "nobody"], "unknown role nobody"),
        (["--role", "finance", "--role", "ghost"], "unknown role ghost"),
        (["--role", "finance", "--purpose", "FUNDRAISING"], "unknown purpose FUNDRAISING"),
        (["--role", "finance", "--role", "user"], "different kinds of principal"),
    ],
)
def test_explain_refuses_unknown_roles_and_purposes(
    runner: CliRunner, arguments: list[str], named: str
) -> None:
    result = runner.invoke(app, ["policy", "explain", *arguments])

    assert result.exit_code == 2
    assert named in result.stderr
    assert result.stdout == ""


def test_explain_refuses_an_invalid_query(runner: CliRunner, tmp_path: Path) -> None:
    query = tmp_path / "typo.graphql"
    query.write_text("{ orders { edges { node { buyerFone } } } }", encoding="utf-8")

    result = runner.invoke(app, ["policy", "explain", "--role", "finance", "--query", str(query)])

    assert result.exit_code == 2
    assert "buyerFone" in result.stderr


def test_explain_reports_an_invalid_policy(runner: CliRunner, policy_copy: Path) -> None:
    rewrite_rules(policy_copy, add="p, finance, Order.status, FUNDRAISING, full, any, allow")

    result = runner.invoke(
        app, ["policy", "explain", "--role", "finance", "--policy-dir", str(policy_copy)]
    )

    assert result.exit_code == 1
    assert "unknown purpose 'FUNDRAISING'" in result.stderr


# --- the rows behind policy explain ----------------------------------------------------------


def row_of(rows: list[ExplainRow], field: str) -> ExplainRow:
    return next(row for row in rows if row.field == field)


def test_explain_rows_follow_the_decisions(catalog: Catalog, policy: Policy) -> None:
    rows = explain(catalog, policy, ["support_agent"], "CUSTOMER_SUPPORT")

    assert [row.field for row in rows] == sorted(catalog.classifications)
    contact = row_of(rows, "SupportTicket.contactPhone")
    assert (contact.other, contact.owner, contact.assigned) == (
        Disclosure.MASKED,
        None,
        Disclosure.FULL,
    )
    assert contact.strategy is MaskStrategy.PHONE
    assert contact.reason is None


def test_explain_without_purpose_denies_personal_fields_to_staff(
    catalog: Catalog, policy: Policy
) -> None:
    rows = explain(catalog, policy, ["finance"], None, coordinates=["Order.id", "Order.status"])

    assert [row.field for row in rows] == ["Order.id", "Order.status"]
    order_id, status = rows
    assert order_id.other is Disclosure.FULL
    assert status.other is Disclosure.DENIED
    assert status.reason is DenialReason.PURPOSE_REQUIRED


def test_explain_partner_rows_have_no_owner_or_assigned_column(
    catalog: Catalog, policy: Policy
) -> None:
    rows = explain(catalog, policy, ["logistics"], "DELIVERY", coordinates=["Order.buyerPhone"])

    (row,) = rows
    assert (row.other, row.owner, row.assigned) == (Disclosure.FULL, None, None)
    assert row.rule == "logistics, Order.buyerPhone, DELIVERY, full, any, allow"


def test_explain_refuses_an_unclassified_coordinate(catalog: Catalog, policy: Policy) -> None:
    with pytest.raises(BadUserInput, match=r"Order\.nothing"):
        explain(catalog, policy, ["finance"], None, coordinates=["Order.nothing"])


@pytest.mark.parametrize(
    ("roles", "kind"),
    [
        (["anonymous"], PrincipalKind.ANONYMOUS),
        (["user"], PrincipalKind.USER),
        (["user", "anonymous"], PrincipalKind.USER),
        (["support_agent", "finance"], PrincipalKind.STAFF),
        (["merchant"], PrincipalKind.PARTNER),
    ],
)
def test_principal_kind_follows_the_roles(roles: list[str], kind: PrincipalKind) -> None:
    assert principal_kind(roles) is kind


def test_synthetic_principal_needs_a_role(policy: Policy) -> None:
    with pytest.raises(BadUserInput, match="at least one role"):
        synthetic_principal(policy, [])


def test_parse_operation_takes_the_first_operation() -> None:
    schema = build_schema()._schema
    source = "query First { courses { totalCount } }\nquery Second { me { id } }"

    operation, fragments = parse_operation(schema, source)

    assert operation.name is not None
    assert operation.name.value == "First"
    assert fragments == {}


def test_parse_operation_refuses_a_syntax_error() -> None:
    with pytest.raises(BadUserInput, match="does not parse"):
        parse_operation(build_schema()._schema, "query {")


# --- tokens ----------------------------------------------------------------------------------


@pytest.fixture
def recorded_tokens(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str | None]]:
    """Replace ``list_tokens`` with a fake; yields the subjects it was asked for."""
    asked: list[str | None] = []
    issued = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
    tokens = [
        IssuedToken(
            jti="jti-new",
            subject="staff:7",
            issued_at=issued,
            expires_at=issued + timedelta(hours=1),
        ),
        IssuedToken(
            jti="jti-old",
            subject="staff:7",
            issued_at=issued.replace(tzinfo=None) - timedelta(days=1),  # as SQLite returns it
            expires_at=issued - timedelta(hours=23),
            revoked_at=issued - timedelta(hours=23, minutes=30),
        ),
    ]

    async def fake_list_tokens(
        engine: AsyncEngine, subject: str | None = None
    ) -> list[IssuedToken]:
        asked.append(subject)
        return [t for t in tokens if subject is None or t.subject == subject]

    monkeypatch.setattr(issuance, "list_tokens", fake_list_tokens)
    yield asked


def test_token_list_prints_one_aligned_row_per_token(
    runner: CliRunner, recorded_tokens: list[str | None]
) -> None:
    result = runner.invoke(app, ["token", "list"])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "jti      subject  issued                expires               revoked",
        "jti-new  staff:7  2025-03-01T08:00:00Z  2025-03-01T09:00:00Z  -",
        "jti-old  staff:7  2025-02-28T08:00:00Z  2025-02-28T09:00:00Z  2025-02-28T08:30:00Z",
    ]
    assert recorded_tokens == [None]


def test_token_list_passes_a_subject_through(
    runner: CliRunner, recorded_tokens: list[str | None]
) -> None:
    result = runner.invoke(app, ["token", "list", "--sub", "partner:3"])

    assert result.exit_code == 0, result.output
    assert recorded_tokens == ["partner:3"]
    assert "no tokens" in result.stderr


def test_token_list_on_a_database_not_upgraded_fails_cleanly(runner: CliRunner) -> None:
    # the autouse fixture's database is a new, empty SQLite file: no issued_tokens table
    result = runner.invoke(app, ["token", "list"])

    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot read the issued tokens")
    assert "issued_tokens" not in result.output  # no SQL in the message


def test_token_issue_reports_a_configuration_error(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDGATE_SIGNING_KEY_FILE", str(tmp_path / "missing.pem"))

    result = runner.invoke(app, ["token", "issue", "--sub", "alice"])

    assert result.exit_code == 1
    assert result.stderr.startswith("error: signing key file")
    assert "does not exist" in result.stderr
    assert result.stdout == ""


def test_table_aligns_all_but_the_last_column() -> None:
    text = table(("a", "bbb", "c"), [("xx", "y", "a long last cell"), ("", "", "")])

    assert text.split("\n") == ["a   bbb  c", "xx  y    a long last cell", ""]


def test_serve_refuses_a_policy_the_lint_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "policy"
    shutil.copytree(PACKAGED_POLICY_DIR, folder)
    rules = (folder / "policy.csv").read_text(encoding="utf-8")
    (folder / "policy.csv").write_text(
        rules.replace("p, finance, Order.id, *, full, any, allow\n", ""), encoding="utf-8"
    )
    monkeypatch.setenv("FIELDGATE_POLICY_DIR", str(folder))
    monkeypatch.setenv("FIELDGATE_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("FIELDGATE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/x.db")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 1
    assert "Order.id" in result.output


def test_serve_runs_one_worker_per_core_in_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("fieldgate.cli.serve.os.cpu_count", lambda: 6)
    development = Settings(key_dir=tmp_path)
    production = development.model_copy(update={"env": "production"})
    assert worker_count(None, development) == 1
    assert worker_count(None, production) == 6
    assert worker_count(3, production) == 3


def test_serve_refuses_zero_workers(runner: CliRunner) -> None:
    result = runner.invoke(app, ["serve", "--workers", "0"])
    assert result.exit_code == 2
    assert "--workers must be at least 1" in result.output
