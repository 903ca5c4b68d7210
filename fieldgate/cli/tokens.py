"""``fieldgate token``: issue, revoke and list the tokens of users, staff and partners."""

from __future__ import annotations

import asyncio
import re
import sys
from typing import Annotated

import typer

from fieldgate.cli.output import fail, table, when
from fieldgate.settings import Settings

app = typer.Typer(no_args_is_help=True, help="issue, list and revoke tokens")


@app.command("issue")
def token_issue(
    sub: Annotated[str, typer.Option(help="username of a user or staff member, or partner name")],
    role: Annotated[list[str] | None, typer.Option(help="narrow to these roles")] = None,
    scope: Annotated[list[str] | None, typer.Option(help="narrow to these coordinates")] = None,
    purpose: Annotated[list[str] | None, typer.Option(help="narrow to these purposes")] = None,
    ttl: Annotated[str, typer.Option(help="lifetime, e.g. 30m, 1h, 7d")] = "1h",
    strict: Annotated[bool, typer.Option(help="fail whole operations on any denial")] = False,
) -> None:
    """Print a signed token for a subject; roles and purposes come from the database."""
    from fieldgate.audit.chain import load_audit_key
    from fieldgate.audit.store import DatabaseAuditSink
    from fieldgate.authz.purposes import load_purposes
    from fieldgate.authz.token_grants import TokenGrants
    from fieldgate.cli.policy_offline import policy_in_force
    from fieldgate.errors import ConfigurationError, FieldgateError
    from fieldgate.identity.issuance import issue_for_subject, parse_ttl
    from fieldgate.identity.signing_key import load_signing_key
    from fieldgate.identity.tokens import TokenService
    from fieldgate.infra.db import create_engine

    settings = Settings()

    async def grants() -> TokenGrants:
        from fieldgate.schema import build_schema  # built only to check what the token names
        from fieldgate.schema.catalog import build_catalog

        vocabulary = load_purposes(settings.policy_dir)
        in_force = await policy_in_force(settings, settings.policy_dir, vocabulary)
        catalog = build_catalog(build_schema()._schema, vocabulary)
        return TokenGrants(catalog.classifications, in_force.policy)

    async def run() -> str:
        checked = await grants() if scope or purpose else None
        engine = create_engine(settings.database_url)
        service = TokenService(
            load_signing_key(settings), settings.token_issuer, settings.token_audience
        )
        audit = DatabaseAuditSink(engine, load_audit_key(settings))
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
                audit=audit,
                grants=checked,
            )
        finally:
            await engine.dispose()

    try:
        token = asyncio.run(run())
    except FieldgateError as exc:
        fail(exc.message)
    except ConfigurationError as exc:
        fail(str(exc))
    sys.stdout.write(token + "\n")


@app.command("revoke")
def token_revoke(
    jti: Annotated[str | None, typer.Argument(help="the token's id")] = None,
    sub: Annotated[
        str | None,
        typer.Option(help="revoke every token of this username, partner name, or kind:ID"),
    ] = None,
) -> None:
    """Revoke a token by its id (``jti``), or every token of a subject (``--sub``); every
    instance refuses them on its next request."""
    from fieldgate.audit.chain import load_audit_key
    from fieldgate.audit.store import DatabaseAuditSink
    from fieldgate.errors import ConfigurationError
    from fieldgate.identity.accounts import subject_named
    from fieldgate.identity.issuance import revoke, revoke_subject
    from fieldgate.infra.db import create_engine

    if (jti is None) == (sub is None):
        fail("name a token id or --sub, not both")
    settings = Settings()
    try:
        key = load_audit_key(settings)
    except ConfigurationError as exc:
        fail(str(exc))

    async def run() -> int | None:
        engine = create_engine(settings.database_url)
        audit = DatabaseAuditSink(engine, key)
        try:
            if jti is not None:
                return 1 if await revoke(engine, jti, audit=audit) else None
            assert sub is not None
            subject = sub if _SUBJECT.fullmatch(sub) else await subject_named(engine, sub)
            if subject is None:
                return None
            return await revoke_subject(engine, subject, audit=audit)
        finally:
            await engine.dispose()

    revoked = asyncio.run(run())
    if revoked is None:
        fail(
            f"no token with jti {jti}"
            if jti is not None
            else "no staff member, user or partner has that name"
        )
    typer.echo(
        f"revoked {jti}" if jti is not None else f"revoked {revoked} tokens of {sub}", err=True
    )


_SUBJECT = re.compile(r"(?:user|staff|partner):[0-9]+")


@app.command("list")
def token_list(
    sub: Annotated[
        str | None,
        typer.Option(help="only this subject's: a username, partner name, or kind:ID"),
    ] = None,
) -> None:
    """List the tokens issued, newest first: jti, subject, issued, expires, revoked."""
    from sqlalchemy.exc import SQLAlchemyError

    from fieldgate.identity.accounts import subject_named
    from fieldgate.identity.issuance import list_tokens
    from fieldgate.infra.db import create_engine
    from fieldgate.models import IssuedToken

    settings = Settings()

    async def run() -> list[IssuedToken] | None:
        engine = create_engine(settings.database_url)
        try:
            subject = sub
            if sub is not None and not _SUBJECT.fullmatch(sub):
                subject = await subject_named(engine, sub)
                if subject is None:
                    return None
            return await list_tokens(engine, subject)
        finally:
            await engine.dispose()

    try:
        tokens = asyncio.run(run())
    except (SQLAlchemyError, OSError):
        fail("cannot read the issued tokens: is the database reachable and upgraded?")
    if tokens is None:
        fail("no staff member, user or partner has that name")
    if not tokens:
        typer.echo("no tokens", err=True)
        return
    typer.echo(
        table(
            ("jti", "subject", "issued", "expires", "revoked"),
            (
                (
                    t.jti,
                    t.subject,
                    when(t.issued_at),
                    when(t.expires_at),
                    when(t.revoked_at) if t.revoked_at else "-",
                )
                for t in tokens
            ),
        )
    )
