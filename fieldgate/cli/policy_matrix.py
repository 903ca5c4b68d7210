"""``fieldgate policy matrix``: the policy grid, as CSV or as an HTML page."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from fieldgate.cli.output import fail
from fieldgate.settings import Settings


class MatrixFormat(StrEnum):
    CSV = "csv"
    HTML = "html"


def policy_matrix_command(
    output_format: Annotated[
        MatrixFormat, typer.Option("--format", help="csv (one line per cell) or html")
    ] = MatrixFormat.CSV,
    role: Annotated[list[str] | None, typer.Option("--role", help="only these roles")] = None,
    purpose: Annotated[
        list[str] | None, typer.Option("--purpose", help="only these purposes ((none): none)")
    ] = None,
    type_name: Annotated[
        list[str] | None, typer.Option("--type", help="only the fields of these types")
    ] = None,
    candidate: Annotated[
        Path | None,
        typer.Option(
            file_okay=False,
            help="a candidate policy folder to compare (default: FIELDGATE_SHADOW_POLICY_DIR)",
        ),
    ] = None,
) -> None:
    """Print the policy as fields × roles × purposes: FULL, MASKED or DENIED per cell with
    the rule that decided, own-row and assigned-row variants, and each role's row scopes."""
    from fieldgate.authz.matrix import matrix_csv, policy_matrix
    from fieldgate.authz.policy_loading import load_policy
    from fieldgate.authz.purposes import load_purposes
    from fieldgate.cli.policy_offline import policy_in_force
    from fieldgate.errors import BadUserInput, PolicyError, SchemaMisdeclared
    from fieldgate.http.policy_grid import grid_page
    from fieldgate.schema import build_schema
    from fieldgate.schema.catalog import build_catalog

    settings = Settings()
    try:
        vocabulary = load_purposes(settings.policy_dir)
        policy = asyncio.run(policy_in_force(settings, settings.policy_dir, vocabulary)).policy
        folder = candidate or settings.shadow_policy_dir
        shadow = None if folder is None else load_policy(folder, vocabulary)
        catalog = build_catalog(build_schema()._schema, vocabulary)
        matrix = policy_matrix(
            catalog, policy, candidate=shadow, roles=role, purposes=purpose, types=type_name
        )
    except (PolicyError, BadUserInput) as exc:
        fail(exc.message)
    except SchemaMisdeclared as exc:
        fail(str(exc))
    text = matrix_csv(matrix) if output_format is MatrixFormat.CSV else grid_page(matrix)
    typer.echo(text, nl=False)
