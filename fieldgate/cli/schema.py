"""``fieldgate schema``: the GraphQL schema, whole or as a set of roles sees it."""

from __future__ import annotations

from typing import Annotated

import typer

from fieldgate.cli.output import fail
from fieldgate.settings import Settings

app = typer.Typer(no_args_is_help=True, help="the GraphQL schema")


@app.command("print")
def schema_print(
    role: Annotated[
        list[str] | None, typer.Option("--role", help="print the view of these roles")
    ] = None,
    scope: Annotated[list[str] | None, typer.Option("--scope", help="token scope")] = None,
    purpose: Annotated[list[str] | None, typer.Option("--purpose", help="token purpose")] = None,
) -> None:
    """Print the SDL with every field's classification; with ``--role``, only what a token
    holding those roles (narrowed by ``--scope`` and ``--purpose``) could ever receive."""
    from fieldgate.schema import build_schema

    full = build_schema().as_str()
    if not role:
        if scope or purpose:
            fail("--scope and --purpose narrow a --role")
        typer.echo(full)
        return
    from fieldgate.authz.policy_loading import load_policy
    from fieldgate.authz.purposes import load_purposes
    from fieldgate.errors import BadUserInput, PolicyError
    from fieldgate.schema.catalog import build_catalog
    from fieldgate.schema.views import printed_view

    folder = Settings().policy_dir
    try:
        vocabulary = load_purposes(folder)
        policy = load_policy(folder, vocabulary)
        catalog = build_catalog(build_schema()._schema, vocabulary)
        typer.echo(printed_view(full, catalog, policy, role, scope or (), purpose or ()))
    except (BadUserInput, PolicyError) as exc:
        fail(exc.message)
