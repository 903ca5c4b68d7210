"""``fieldgate documents``: the trusted documents partners may run."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from fieldgate.cli.output import fail, table, when
from fieldgate.settings import Settings

app = typer.Typer(no_args_is_help=True, help="trusted documents of partners")


@app.command("register")
def documents_register(
    file: Annotated[Path, typer.Argument(help="a file holding one GraphQL document")],
    partner: Annotated[
        list[str] | None, typer.Option(help="a partner name that may run it (repeatable)")
    ] = None,
    name: Annotated[str | None, typer.Option(help="a name to list it by")] = None,
) -> None:
    """Register a document for partners; prints its SHA-256 (what clients may send)."""
    from sqlalchemy.exc import SQLAlchemyError

    from fieldgate.documents.store import register_document
    from fieldgate.errors import FieldgateError
    from fieldgate.infra.db import create_engine

    try:
        document = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        fail(f"cannot read {file.name} as UTF-8 text")
    settings = Settings()

    async def run() -> str:
        engine = create_engine(settings.database_url)
        try:
            return await register_document(
                engine, document, name=name, partners=partner or (), created_by="cli"
            )
        finally:
            await engine.dispose()

    try:
        digest = asyncio.run(run())
    except FieldgateError as exc:
        fail(exc.message)
    except (SQLAlchemyError, OSError):
        fail("cannot store the document: is the database reachable and upgraded?")
    typer.echo(digest)


@app.command("list")
def documents_list() -> None:
    """List the stored documents, newest first: hash, name, partners, stored by and when."""
    from sqlalchemy.exc import SQLAlchemyError

    from fieldgate.documents.store import RegisteredDocument, list_documents
    from fieldgate.infra.db import create_engine

    settings = Settings()

    async def run() -> list[RegisteredDocument]:
        engine = create_engine(settings.database_url)
        try:
            return await list_documents(engine)
        finally:
            await engine.dispose()

    try:
        documents = asyncio.run(run())
    except (SQLAlchemyError, OSError):
        fail("cannot read the documents: is the database reachable and upgraded?")
    if not documents:
        typer.echo("no documents", err=True)
        return
    typer.echo(
        table(
            ("sha256", "name", "partners", "stored by", "stored"),
            (
                (
                    d.sha256,
                    d.name or "-",
                    ",".join(d.partners) or "-",
                    d.created_by,
                    when(d.created_at),
                )
                for d in documents
            ),
        )
    )
