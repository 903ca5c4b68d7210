"""The ``fieldgate`` command: serve, db, token, policy, schema, keys, audit, documents,
retention.

One module per command group; this one puts them together.
"""

from __future__ import annotations

import typer

from fieldgate.cli import (
    audit,
    db,
    documents,
    keys,
    policy,
    policy_matrix,
    retention,
    schema,
    serve,
    tokens,
)

app = typer.Typer(no_args_is_help=True, add_completion=False, help="fieldgate gateway")
app.add_typer(db.app, name="db")
app.add_typer(tokens.app, name="token")
app.add_typer(policy.app, name="policy")
policy.app.command("matrix")(policy_matrix.policy_matrix_command)
app.add_typer(schema.app, name="schema")
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")
app.add_typer(documents.app, name="documents")
app.add_typer(retention.app, name="retention")
app.command()(serve.serve)


def main() -> None:
    """Run the ``fieldgate`` command."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
