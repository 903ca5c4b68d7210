"""The policy grid: computed from the engine's decisions, printed as CSV or HTML, with a
shadow candidate's differences."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fieldgate.authz.matrix import Column, matrix_csv, policy_matrix
from fieldgate.authz.policy_loading import load_policy
from fieldgate.authz.purposes import load_purposes
from fieldgate.cli import app as cli
from fieldgate.http.policy_grid import grid_page
from fieldgate.schema import build_schema
from fieldgate.schema.catalog import build_catalog
from fieldgate.settings import PACKAGED_POLICY_DIR

VOCABULARY = load_purposes(PACKAGED_POLICY_DIR)
POLICY = load_policy(PACKAGED_POLICY_DIR, VOCABULARY)
CATALOG = build_catalog(build_schema()._schema, VOCABULARY)


def candidate_folder(tmp_path: Path) -> Path:
    """The packaged policy, with support agents reading buyer phones in full."""
    folder = tmp_path / "candidate"
    shutil.copytree(PACKAGED_POLICY_DIR, folder)
    rules = folder / "policy.csv"
    rules.write_text(
        rules.read_text()
        + "p, support_agent, Order.buyerPhone, CUSTOMER_SUPPORT, full, any, allow\n"
    )
    return folder


def test_cells_come_from_the_engine() -> None:
    matrix = policy_matrix(CATALOG, POLICY, roles=["support_agent", "verification_officer"])
    card = matrix.cells[("Order.bankCard", Column("support_agent", "CUSTOMER_SUPPORT"))]
    assert card.row.other.value == "DENIED" and card.text == "DENIED"
    number = matrix.cells[
        ("User.idNumber", Column("verification_officer", "IDENTITY_VERIFICATION"))
    ]
    assert number.text == "FULL"
    assert "verification_officer" in number.row.rule
    phone = matrix.cells[
        ("SupportTicket.contactPhone", Column("support_agent", "CUSTOMER_SUPPORT"))
    ]
    assert phone.text == "MASKED PHONE · assigned FULL"
    assert matrix.row_scopes[("support_agent", "SupportTicket")]


def test_filters_by_type_role_and_purpose() -> None:
    matrix = policy_matrix(
        CATALOG, POLICY, roles=["finance"], purposes=["INVOICING"], types=["Order"]
    )
    assert matrix.columns == (Column("finance", "INVOICING"),)
    assert {f.split(".")[0] for f in matrix.fields} == {"Order"}


def test_a_shadow_candidate_differs_where_it_grants_more(tmp_path: Path) -> None:
    candidate = load_policy(candidate_folder(tmp_path), VOCABULARY)
    matrix = policy_matrix(CATALOG, POLICY, candidate=candidate, roles=["support_agent"])
    differing = {(f, c.label) for (f, c), cell in matrix.cells.items() if cell.candidate}
    assert differing == {("Order.buyerPhone", "CUSTOMER_SUPPORT")}
    assert "shadow: FULL" in grid_page(matrix)


def test_the_csv_has_a_line_per_cell() -> None:
    matrix = policy_matrix(CATALOG, POLICY, roles=["support_agent"])
    lines = list(csv.DictReader(io.StringIO(matrix_csv(matrix))))
    assert len(lines) == len(matrix.fields) * len(matrix.columns)
    [card] = [
        r for r in lines if r["field"] == "Order.bankCard" and r["purpose"] == "CUSTOMER_SUPPORT"
    ]
    assert card["other"] == "DENIED" and card["reason"] == "PURPOSE_NOT_ALLOWED_FOR_FIELD"


@pytest.mark.parametrize("output_format", ["csv", "html"])
def test_the_command_prints_the_grid(output_format: str, tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(
        cli,
        [
            "policy",
            "matrix",
            "--format",
            output_format,
            "--role",
            "support_agent",
            "--candidate",
            str(candidate_folder(tmp_path)),
        ],
    )
    assert done.exit_code == 0, done.output
    if output_format == "csv":
        assert done.output.startswith("field,level,role,purpose,other,own,assigned")
        assert "Order.buyerPhone,SENSITIVE,support_agent,CUSTOMER_SUPPORT,MASKED" in done.output
        assert ",FULL\n" in done.output  # the candidate's answer
    else:
        assert done.output.startswith("<!doctype html>")
        assert 'class="fg-cell denied"' in done.output and "shadow:" in done.output


def test_an_unknown_role_is_refused() -> None:
    done = CliRunner().invoke(cli, ["policy", "matrix", "--role", "nobody"])
    assert done.exit_code == 1
    assert "unknown role nobody" in done.output
