"""``fieldgate audit``: verify the tamper-evident audit trail."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from fieldgate.cli.output import fail
from fieldgate.settings import Settings

app = typer.Typer(no_args_is_help=True, help="the tamper-evident audit trail")


@app.command("verify")
def audit_verify(
    batch: Annotated[
        int, typer.Option(min=1, max=100_000, help="events read per query (bounds memory)")
    ] = 1000,
) -> None:
    """Recompute every link of the audit trail; exit 1 naming the first broken event."""
    from sqlalchemy.exc import SQLAlchemyError

    from fieldgate.audit.chain import load_audit_key
    from fieldgate.audit.verify import Verification, verify_trail
    from fieldgate.errors import ConfigurationError
    from fieldgate.infra.db import create_engine

    settings = Settings()
    try:
        key = load_audit_key(settings, create=False)  # a new key would verify nothing
    except ConfigurationError as exc:
        fail(str(exc))

    async def run() -> Verification:
        engine = create_engine(settings.database_url)
        try:
            return await verify_trail(engine, key, batch_size=batch)
        finally:
            await engine.dispose()

    try:
        result = asyncio.run(run())
    except (SQLAlchemyError, OSError):
        fail("cannot read the audit trail: is the database reachable and upgraded?")
    if not result.ok:
        broken = f"audit trail broken at event seq={result.broken_at}: {result.problem}"
        typer.echo(broken, err=True)
        raise typer.Exit(1)
    typer.echo(f"audit trail verified: {result.count} events, head {result.head[:16]}")
