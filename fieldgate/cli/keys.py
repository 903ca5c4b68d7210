"""``fieldgate keys``: the data keys of the encrypted columns."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer

from fieldgate.cli.output import fail, table
from fieldgate.settings import Settings

if TYPE_CHECKING:
    from fieldgate.crypto.keyring import Keyring

app = typer.Typer(
    no_args_is_help=True, help="data keys of the encrypted columns: status, rotate, retire"
)


def _data_keyring(settings: Settings) -> Keyring:
    from fieldgate.crypto.keyring import load_keyring
    from fieldgate.errors import ConfigurationError

    try:
        return load_keyring(settings)
    except ConfigurationError as exc:
        fail(str(exc))


_DATABASE_UNREACHABLE = "cannot read the stored values: is the database reachable and upgraded?"


@app.command("status")
def keys_status() -> None:
    """Per key id: its state and how many stored values it seals."""
    from sqlalchemy.exc import SQLAlchemyError

    from fieldgate.crypto.rotation import key_usage
    from fieldgate.infra.db import create_engine

    settings = Settings()
    keyring = _data_keyring(settings)

    async def run() -> dict[str, int]:
        engine = create_engine(settings.database_url)
        try:
            return dict(await key_usage(engine))
        finally:
            await engine.dispose()

    try:
        usage = asyncio.run(run())
    except (SQLAlchemyError, OSError):
        fail(_DATABASE_UNREACHABLE)

    def state(kid: str) -> str:
        if kid == keyring.active_key_id:
            return "active"
        if kid in keyring.key_ids:
            return "readable"
        if kid in keyring.retired_key_ids:
            return "retired"
        return "unknown"  # sealed with a key this key file never held, or not a key id

    kids = [*keyring.key_ids, *keyring.retired_key_ids]
    kids += sorted(kid for kid in usage if kid not in kids)
    typer.echo(
        table(("key", "state", "values"), ((k, state(k), str(usage.get(k, 0))) for k in kids))
    )


@app.command("rotate")
def keys_rotate(
    new_key: Annotated[
        bool,
        typer.Option(help="make a new key active first (--no-new-key finishes a rotation)"),
    ] = True,
    batch_size: Annotated[int, typer.Option(min=1, help="values per transaction")] = 500,
    pseudonyms: Annotated[
        bool,
        typer.Option(
            "--pseudonyms",
            help="start a new pseudonym period instead: every recipient's pseudonyms change",
        ),
    ] = False,
) -> None:
    """Make a new data key active, then re-encrypt every stored value with it.

    With --pseudonyms, start a new pseudonym period instead (the data keys are left as they
    are): every recipient receives new pseudonyms from the next request on, and those of
    the old period no longer resolve.

    Old keys stay readable: running gateways keep serving and learn the new key by themselves.

    Each batch is one transaction; a value changed meanwhile is never overwritten.

    The blind-index key (lookups by ID number) is not rotated. Exit 1 if a value cannot be opened.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from fieldgate.crypto.rotation import RotationReport, reencrypt
    from fieldgate.errors import ConfigurationError
    from fieldgate.infra.db import create_engine

    settings = Settings()
    keyring = _data_keyring(settings)
    if pseudonyms:
        try:
            period = keyring.rotate_pseudonyms()
        except ConfigurationError as exc:
            fail(str(exc))
        typer.echo(f"pseudonym period {period} is now in force", err=True)
        return
    if new_key:
        try:
            kid = keyring.add_active_key()
        except ConfigurationError as exc:
            fail(str(exc))
        typer.echo(f"key {kid} is now active; re-encrypting the stored values", err=True)

    def progress(column: str, checked: int, rewritten: int) -> None:
        typer.echo(f"{column}: {checked} checked, {rewritten} re-encrypted", err=True)

    async def run() -> RotationReport:
        engine = create_engine(settings.database_url)
        try:
            return await reencrypt(engine, keyring, batch_size=batch_size, progress=progress)
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except (SQLAlchemyError, OSError):
        fail(_DATABASE_UNREACHABLE + " Run the command again to finish (--no-new-key).")
    typer.echo(report.summary())
    if report.unreadable:
        fail(f"{report.unreadable} stored values could not be opened with the keys held")


@app.command("retire")
def keys_retire(kid: Annotated[str, typer.Argument(help="the key id to retire")]) -> None:
    """Remove a key's material for good, once no stored value uses it (else exit 1).

    Run it against every database that shares the key file.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from fieldgate.crypto.rotation import retire_key
    from fieldgate.errors import ConfigurationError, FieldgateError
    from fieldgate.infra.db import create_engine

    settings = Settings()
    keyring = _data_keyring(settings)

    async def run() -> None:
        engine = create_engine(settings.database_url)
        try:
            await retire_key(engine, keyring, kid)
        finally:
            await engine.dispose()

    try:
        asyncio.run(run())
    except FieldgateError as exc:
        fail(exc.message)
    except ConfigurationError as exc:
        fail(str(exc))
    except (SQLAlchemyError, OSError):
        fail(_DATABASE_UNREACHABLE)
    typer.echo(f"key {kid} is retired", err=True)
