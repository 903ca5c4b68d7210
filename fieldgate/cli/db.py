"""``fieldgate db``: the database schema and the demo data."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from fieldgate.cli.output import fail
from fieldgate.settings import Settings

app = typer.Typer(no_args_is_help=True, help="database schema and demo data")


@app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the current schema (Alembic)."""
    from fieldgate.infra.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    typer.echo("database is at the current schema", err=True)


@app.command("seed")
def db_seed(
    demo: Annotated[bool, typer.Option("--demo", help="make the demo data set")] = False,
    users: Annotated[int, typer.Option(min=10)] = 1000,
    courses: Annotated[int, typer.Option(min=10)] = 200,
    orders: Annotated[int, typer.Option(min=10)] = 5000,
    tickets: Annotated[int, typer.Option(min=10)] = 1000,
    seed: Annotated[int, typer.Option(help="random seed; same seed, same data")] = 42,
    progress: Annotated[bool, typer.Option(help="show a progress bar")] = True,
) -> None:
    """Fill the database with deterministic demo data (development only)."""
    from fieldgate.crypto.keyring import load_keyring
    from fieldgate.demo.seed import seed_demo
    from fieldgate.errors import ConfigurationError
    from fieldgate.infra.db import create_engine

    if not demo:
        fail("only --demo seeding exists")
    settings = Settings()
    if settings.is_production:
        fail("demo data is for development only")
    try:
        keyring = load_keyring(settings)  # the sensitive columns are stored sealed
    except ConfigurationError as exc:
        fail(str(exc))

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            report = await seed_demo(
                engine,
                keyring=keyring,
                users=users,
                courses=courses,
                orders=orders,
                tickets=tickets,
                seed=seed,
                progress=progress,
            )
        finally:
            await engine.dispose()
        typer.echo(report.summary(), err=True)

    asyncio.run(run())
