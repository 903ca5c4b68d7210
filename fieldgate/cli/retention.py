"""``fieldgate retention``: remove what the retention schedule no longer allows to keep."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from fieldgate.cli.output import fail, table
from fieldgate.settings import Settings

app = typer.Typer(no_args_is_help=True, help="the retention schedule and its pass")


@app.command("run")
def retention_run(
    apply: Annotated[
        bool, typer.Option("--apply", help="delete the rows (default: only count them)")
    ] = False,
) -> None:
    """List, per kind of record, how many rows are past their period; ``--apply`` removes
    them. Safe on every instance at once: one runs, the others exit 0."""
    from sqlalchemy.exc import SQLAlchemyError

    from fieldgate.audit.chain import load_audit_key
    from fieldgate.errors import ConfigurationError
    from fieldgate.infra.db import create_engine
    from fieldgate.retention.run import Outcome, run_pass
    from fieldgate.retention.schedule import Schedule

    settings = Settings()
    try:
        key = load_audit_key(settings, create=False)  # the pass is audited and prunes the trail
    except ConfigurationError as exc:
        fail(str(exc))

    async def run() -> Outcome:
        engine = create_engine(settings.database_url)
        try:
            return await run_pass(engine, key, Schedule.of(settings), apply=apply)
        finally:
            await engine.dispose()

    try:
        outcome = asyncio.run(run())
    except (SQLAlchemyError, OSError):
        fail("cannot run the retention pass: is the database reachable and upgraded?")
    if not outcome.ran:
        typer.echo("another instance is running the pass")
        return
    header = "removed" if apply else "would remove"
    rows = [(kind, str(count)) for kind, count in sorted(outcome.counts.items())]
    typer.echo(table(("kind", header), rows))
    if not apply:
        typer.echo("dry run: nothing was removed (--apply removes these rows)")
