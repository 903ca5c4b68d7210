"""The ``fieldgate`` command: serve, db, token, policy, schema."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from fieldgate.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="fieldgate gateway")
db_app = typer.Typer(no_args_is_help=True, help="database schema and demo data")
token_app = typer.Typer(no_args_is_help=True, help="issue, list and revoke tokens")
policy_app = typer.Typer(no_args_is_help=True, help="check and explain the policy")
schema_app = typer.Typer(no_args_is_help=True, help="the GraphQL schema")
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(policy_app, name="policy")
app.add_typer(schema_app, name="schema")


def fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the gateway over HTTP."""
    import uvicorn

    settings = Settings()
    uvicorn.run(
        "fieldgate.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        server_header=False,
        log_level="info",
    )


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the current schema (Alembic)."""
    from fieldgate.migrate import upgrade

    settings = Settings()
    upgrade(settings.database_url)
    typer.echo("database is at the current schema", err=True)


@db_app.command("seed")
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
    from fieldgate.db import create_engine
    from fieldgate.demo.seed import seed_demo

    if not demo:
        fail("only --demo seeding exists")
    settings = Settings()
    if settings.is_production:
        fail("demo data is for development only")

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            report = await seed_demo(
                engine,
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


@token_app.command("issue")
def token_issue(
    sub: Annotated[str, typer.Option(help="username of a user or staff member, or partner name")],
    role: Annotated[list[str] | None, typer.Option(help="narrow to these roles")] = None,
    scope: Annotated[list[str] | None, typer.Option(help="narrow to these coordinates")] = None,
    purpose: Annotated[list[str] | None, typer.Option(help="narrow to these purposes")] = None,
    ttl: Annotated[str, typer.Option(help="lifetime, e.g. 30m, 1h, 7d")] = "1h",
    strict: Annotated[bool, typer.Option(help="fail whole operations on any denial")] = False,
) -> None:
    """Print a signed token for a subject; roles and purposes come from the database."""
    from fieldgate.authz.issuance import issue_for_subject, parse_ttl
    from fieldgate.authz.keys import load_signing_key
    from fieldgate.authz.tokens import TokenService
    from fieldgate.db import create_engine
    from fieldgate.errors import FieldgateError

    settings = Settings()

    async def run() -> str:
        engine = create_engine(settings.database_url)
        service = TokenService(
            load_signing_key(settings), settings.token_issuer, settings.token_audience
        )
        try:
            return await issue_for_subject(
                engine,
                service,
                sub,
                roles=role or [],
                scopes=scope or [],
                purposes=purpose or [],
                ttl=parse_ttl(ttl),
                strict=strict,
            )
        finally:
            await engine.dispose()

    try:
        token = asyncio.run(run())
    except FieldgateError as exc:
        fail(exc.message)
    sys.stdout.write(token + "\n")


@token_app.command("revoke")
def token_revoke(jti: str) -> None:
    """Revoke a token by its id (``jti``); every instance refuses it on its next request."""
    from fieldgate.authz.issuance import revoke
    from fieldgate.db import create_engine

    settings = Settings()

    async def run() -> bool:
        engine = create_engine(settings.database_url)
        try:
            return await revoke(engine, jti)
        finally:
            await engine.dispose()

    if not asyncio.run(run()):
        fail(f"no token with jti {jti}")
    typer.echo(f"revoked {jti}", err=True)


@schema_app.command("print")
def schema_print() -> None:
    """Print the SDL with every field's classification."""
    from fieldgate.schema import build_schema

    typer.echo(build_schema().as_str())


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()


_ = Path  # keep the import for option types added later
