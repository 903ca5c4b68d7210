"""The ``fieldgate`` command: serve, db, token, policy, schema, keys, audit."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from fieldgate.cli.live_policy import live_policy, live_rules
from fieldgate.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from fieldgate.authz.explain import DataSubject, ExplainRow, SubjectRow
    from fieldgate.crypto.keyring import Keyring

app = typer.Typer(no_args_is_help=True, add_completion=False, help="fieldgate gateway")
db_app = typer.Typer(no_args_is_help=True, help="database schema and demo data")
token_app = typer.Typer(no_args_is_help=True, help="issue, list and revoke tokens")
policy_app = typer.Typer(no_args_is_help=True, help="check and explain the policy")
schema_app = typer.Typer(no_args_is_help=True, help="the GraphQL schema")
audit_app = typer.Typer(no_args_is_help=True, help="the tamper-evident audit trail")
documents_app = typer.Typer(no_args_is_help=True, help="trusted documents of partners")
keys_app = typer.Typer(
    no_args_is_help=True, help="data keys of the encrypted columns: status, rotate, retire"
)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(policy_app, name="policy")
app.add_typer(schema_app, name="schema")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(documents_app, name="documents")


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` to stderr and leave with ``code`` (1: failed, 2: bad usage)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Plain text with aligned columns; the last column is not padded."""
    lines = [list(headers), *(list(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers) - 1)]
    return "\n".join(
        "  ".join([*map(str.ljust, line[:-1], widths), line[-1]]).rstrip() for line in lines
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="worker processes (default: one per core in production, else 1)"),
    ] = None,
) -> None:
    """Serve the gateway over HTTP; refuses to start on a policy the lint rejects.

    uvicorn with uvloop and httptools, one worker per core: the fastest setup measured
    (README, "Benchmarks": granian did no better, asyncio with h11 worse, more workers than
    cores no better)."""
    import uvicorn

    from fieldgate.app import build_services
    from fieldgate.errors import ConfigurationError, PolicyError, SchemaMisdeclared
    from fieldgate.observability.logging import configure_logging

    settings = Settings()
    processes = worker_count(workers, settings)
    configure_logging(settings.log_level)  # uvicorn's own lines are JSON too
    try:  # fail here, with the reason, rather than in every worker with a trace
        services = build_services(settings)
    except (PolicyError, ConfigurationError) as exc:
        fail(str(exc))
    except SchemaMisdeclared as exc:
        fail(f"the schema is misdeclared: {exc}")
    asyncio.run(services.engine.dispose())
    uvicorn.run(
        "fieldgate.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=processes,
        loop="uvloop",
        http="httptools",
        server_header=False,
        log_level=settings.log_level.lower(),
        log_config=None,  # keep the JSON logging configured above
        access_log=False,  # the gateway's own request line replaces it (no query strings)
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,  # drain in-flight requests
    )


def worker_count(option: int | None, settings: Settings) -> int:
    """``--workers`` if given; else one per core in production, one in development."""
    if option is not None:
        if option < 1:
            fail("--workers must be at least 1", 2)
        return option
    return (os.cpu_count() or 1) if settings.is_production else 1


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database to the current schema (Alembic)."""
    from fieldgate.infra.migrate import upgrade

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
    from fieldgate.audit.chain import load_audit_key
    from fieldgate.audit.store import DatabaseAuditSink
    from fieldgate.errors import ConfigurationError, FieldgateError
    from fieldgate.identity.issuance import issue_for_subject, parse_ttl
    from fieldgate.identity.signing_key import load_signing_key
    from fieldgate.identity.tokens import TokenService
    from fieldgate.infra.db import create_engine

    settings = Settings()

    async def run() -> str:
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


@token_app.command("revoke")
def token_revoke(jti: str) -> None:
    """Revoke a token by its id (``jti``); every instance refuses it on its next request."""
    from fieldgate.audit.chain import load_audit_key
    from fieldgate.audit.store import DatabaseAuditSink
    from fieldgate.errors import ConfigurationError
    from fieldgate.identity.issuance import revoke
    from fieldgate.infra.db import create_engine

    settings = Settings()
    try:
        key = load_audit_key(settings)
    except ConfigurationError as exc:
        fail(str(exc))

    async def run() -> bool:
        engine = create_engine(settings.database_url)
        try:
            return await revoke(engine, jti, audit=DatabaseAuditSink(engine, key))
        finally:
            await engine.dispose()

    if not asyncio.run(run()):
        fail(f"no token with jti {jti}")
    typer.echo(f"revoked {jti}", err=True)


@documents_app.command("register")
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


@documents_app.command("list")
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
                    _when(d.created_at),
                )
                for d in documents
            ),
        )
    )


_SUBJECT = re.compile(r"(?:user|staff|partner):[0-9]+")


@token_app.command("list")
def token_list(
    sub: Annotated[
        str | None,
        typer.Option(help="only this subject's: a username, partner name, or kind:ID"),
    ] = None,
) -> None:
    """List the tokens issued, newest first: jti, subject, issued, expires, revoked."""
    from sqlalchemy.exc import SQLAlchemyError

    from fieldgate.identity.issuance import list_tokens
    from fieldgate.infra.db import create_engine
    from fieldgate.models import IssuedToken

    settings = Settings()

    async def run() -> list[IssuedToken] | None:
        engine = create_engine(settings.database_url)
        try:
            subject = sub
            if sub is not None and not _SUBJECT.fullmatch(sub):
                subject = await _subject_named(engine, sub)
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
                    _when(t.issued_at),
                    _when(t.expires_at),
                    _when(t.revoked_at) if t.revoked_at else "-",
                )
                for t in tokens
            ),
        )
    )


async def _subject_named(engine: AsyncEngine, name: str) -> str | None:
    """The ``sub`` of a staff member, user or partner by name, looked up in that order."""
    from sqlmodel import select
    from sqlmodel.ext.asyncio.session import AsyncSession

    from fieldgate.authz.principal import PrincipalKind
    from fieldgate.identity.tokens import subject_of
    from fieldgate.models import Partner, Staff, User

    lookups = (
        (PrincipalKind.STAFF, select(Staff.id).where(Staff.username == name)),
        (PrincipalKind.USER, select(User.id).where(User.username == name)),
        (PrincipalKind.PARTNER, select(Partner.id).where(Partner.name == name)),
    )
    async with AsyncSession(engine) as session:
        for kind, query in lookups:
            found = (await session.exec(query)).first()
            if found is not None:
                return subject_of(kind, found)
    return None


def _when(moment: datetime) -> str:
    # SQLite hands back naive datetimes; every stored time is UTC
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


PolicyDir = Annotated[
    Path | None,
    typer.Option(
        "--policy-dir",
        file_okay=False,
        help="policy folder (default: FIELDGATE_POLICY_DIR, else the packaged policy)",
    ),
]


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


@policy_app.command("lint")
def policy_lint(policy_dir: PolicyDir = None) -> None:
    """Check the policy against the schema; exit 1 naming every problem."""
    from fieldgate.authz.lint import lint_policy
    from fieldgate.authz.policy import RULES_FILE, lint_lines, load_policy, parse_lines
    from fieldgate.authz.purposes import load_purposes
    from fieldgate.errors import PolicyError, SchemaMisdeclared
    from fieldgate.schema import build_schema
    from fieldgate.schema.catalog import build_catalog

    folder = policy_dir or Settings().policy_dir
    try:
        vocabulary = load_purposes(folder)
        stored = None if policy_dir else live_rules(Settings())  # the database's, if there
        try:
            text = "\n".join(stored) if stored is not None else None
            rules = parse_lines(text or (folder / RULES_FILE).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            rules = []  # load_policy names the problem
        # one line per problem, rather than load_policy's single message
        problems = lint_lines(rules, vocabulary)
        if not problems:
            policy = (
                load_policy(folder, vocabulary)
                if stored is None
                else live_policy(Settings(), vocabulary)
            )
            catalog = build_catalog(build_schema()._schema, vocabulary)
            problems = lint_policy(catalog, policy)
    except PolicyError as exc:
        fail(exc.message)
    except SchemaMisdeclared as exc:
        fail(str(exc))
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1)
    typer.echo(
        f"policy {policy.version} is valid: {len(rules)} rules, {len(policy.roles())} roles,"
        f" {len(catalog.classifications)} classified fields"
    )


@policy_app.command("export")
def policy_export(
    file: Annotated[Path, typer.Argument(help="where to write the rules; - for stdout")],
) -> None:
    """Write the rules in force (the database's with FIELDGATE_POLICY_SOURCE=database)."""
    from fieldgate.policy_store.offline import export_rules

    text = "".join(f"{line}\n" for line in asyncio.run(export_rules(Settings())))
    if str(file) == "-":
        typer.echo(text, nl=False)
        return
    try:
        file.write_text(text, encoding="utf-8")
    except OSError:
        fail(f"cannot write {file}")
    typer.echo(f"{text.count(chr(10))} rules written to {file}")


@policy_app.command("import")
def policy_import(
    file: Annotated[Path, typer.Argument(help="a policy.csv file", dir_okay=False)],
) -> None:
    """Check FILE and make it the database policy; running instances follow within 1 s."""
    from fieldgate.errors import PolicyError
    from fieldgate.policy_store.offline import import_rules, rules_of_text

    try:
        lines = rules_of_text(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        fail(f"cannot read {file} as UTF-8")
    try:
        written = asyncio.run(import_rules(Settings(), lines))
    except PolicyError as exc:
        for problem in exc.extensions.get("problems", [exc.message]):
            typer.echo(problem, err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"policy {written.version} in force: revision {written.revision}, {written.rules} rules"
    )


@policy_app.command("reload")
def policy_reload() -> None:
    """Check the policy's source (folder or database) and have every instance reload it."""
    from fieldgate.errors import PolicyError
    from fieldgate.policy_store.offline import reload_everywhere

    try:
        written = asyncio.run(reload_everywhere(Settings()))
    except PolicyError as exc:
        for problem in exc.extensions.get("problems", [exc.message]):
            typer.echo(problem, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"policy {written.version} announced: revision {written.revision}")


@policy_app.command("explain")
def policy_explain(
    role: Annotated[list[str], typer.Option(help="a role of the policy; repeat for several")],
    purpose: Annotated[
        str | None,
        typer.Option(help="the declared purpose (default: the query's, RIGHTS for a user)"),
    ] = None,
    query: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="explain only the fields the first operation of this GraphQL file selects",
        ),
    ] = None,
    policy_dir: PolicyDir = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="table or json")
    ] = OutputFormat.TABLE,
    subject: Annotated[
        str | None,
        typer.Option(
            help="a data subject (username or user id, read from the database): add the "
            "outcome on their rows after consent, guardian, Do-Not-Track and cross-border "
            "gates (with a user's role, the subject is the caller)"
        ),
    ] = None,
    dnt: Annotated[
        bool, typer.Option("--dnt", help="the request sends DNT: 1 or Sec-GPC: 1 (with --subject)")
    ] = False,
    partner_region: Annotated[
        str | None,
        typer.Option(help="the partner's region, e.g. SG (default CN; with --subject)"),
    ] = None,
) -> None:
    """Show, field by field, what the roles would see and the rule that decided it."""
    from fieldgate.authz.explain import (
        effective_purpose,
        explain,
        explain_operation,
        explain_subject,
        parse_operation,
        synthetic_principal,
    )
    from fieldgate.authz.policy import load_policy
    from fieldgate.authz.purposes import load_purposes
    from fieldgate.errors import BadUserInput, PolicyError, SchemaMisdeclared
    from fieldgate.schema import build_schema
    from fieldgate.schema.catalog import build_catalog
    from fieldgate.schema.extensions import declared_purpose

    folder = policy_dir or Settings().policy_dir
    try:
        vocabulary = load_purposes(folder)
        # the rules in force (the database's with POLICY_SOURCE=database), unless a folder is named
        policy = (
            load_policy(folder, vocabulary) if policy_dir else live_policy(Settings(), vocabulary)
        )
        schema = build_schema()._schema
        catalog = build_catalog(schema, vocabulary)
    except PolicyError as exc:
        fail(exc.message)
    except SchemaMisdeclared as exc:
        fail(str(exc))
    try:
        if query is None:
            used = effective_purpose(policy, synthetic_principal(policy, role), purpose)
            rows = explain(catalog, policy, role, purpose)
        else:
            try:
                source = query.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                fail(f"cannot read {query.name} as UTF-8 text", 2)
            operation, fragments = parse_operation(schema, source)
            purpose = purpose or declared_purpose(operation, None)
            used = effective_purpose(policy, synthetic_principal(policy, role), purpose)
            rows = explain_operation(schema, catalog, policy, role, purpose, operation, fragments)
    except BadUserInput as exc:
        fail(exc.message, 2)
    person: DataSubject | None = None
    outcomes: list[SubjectRow] | None = None
    if subject is None:
        if dnt or partner_region is not None:
            fail("--dnt and --partner-region describe a request about a --subject", 2)
    else:
        person = _data_subject(subject)
        try:
            outcomes = explain_subject(
                catalog,
                policy,
                role,
                purpose,
                [row.field for row in rows],
                person,
                do_not_track=dnt,
                partner_region=partner_region,
            )
        except BadUserInput as exc:
            fail(exc.message, 2)
    declarable = used is None or policy.may_declare(role, used)
    if not declarable:
        typer.echo(
            f"note: the roles may not declare {used}; the gateway refuses such operations"
            " (PURPOSE_NOT_ALLOWED)",
            err=True,
        )
    if output_format is OutputFormat.JSON:
        document: dict[str, Any] = {
            "policy": policy.version,
            "roles": sorted(set(role)),
            "purpose": used,
            "declarable": declarable,
            "fields": [asdict(row) for row in rows],
        }
        if person is not None and outcomes is not None:
            document["subject"] = {
                **_subject_summary(person),
                "doNotTrack": dnt,
                "partnerRegion": partner_region,
            }
            for field, outcome in zip(document["fields"], outcomes, strict=True):
                field["subject"] = {k: v for k, v in asdict(outcome).items() if k != "field"}
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"policy {policy.version}, roles {', '.join(sorted(set(role)))}, purpose {used or 'none'}",
        err=True,
    )
    if person is not None:
        facts = person.facts
        parts = [
            f"subject {person.username} (id {person.id}): {_age_group(person)}",
            f"consents in effect: {', '.join(sorted(facts.consents)) or 'none'}",
        ]
        if facts.asked - facts.consents:
            parts.append(f"not in effect: {', '.join(sorted(facts.asked - facts.consents))}")
        if dnt:
            parts.append("DNT")
        if partner_region:
            parts.append(f"partner region {partner_region.upper()}")
        typer.echo("; ".join(parts), err=True)
    typer.echo(_explain_table(rows, outcomes))


def _data_subject(who: str) -> DataSubject:
    """The data subject ``who`` (username or id) and their facts, from the database."""
    from sqlalchemy.exc import SQLAlchemyError

    from fieldgate.authz.explain import load_data_subject
    from fieldgate.errors import BadUserInput
    from fieldgate.infra.db import create_engine

    async def run() -> DataSubject:
        engine = create_engine(Settings().database_url)
        try:
            async with engine.connect() as connection:
                return await load_data_subject(connection, who, datetime.now(UTC).date())
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except BadUserInput as exc:
        fail(exc.message, 2)
    except (SQLAlchemyError, OSError):
        fail("cannot read the data subject: is the database reachable and upgraded?")


def _age_group(person: DataSubject) -> str:
    facts = person.facts
    return "child under 14" if facts.child else "minor" if facts.minor else "adult"


def _subject_summary(person: DataSubject) -> dict[str, object]:
    facts = person.facts
    return {
        "id": person.id,
        "username": person.username,
        "age": _age_group(person),
        "consents": sorted(facts.consents),
        "notInEffect": sorted(facts.asked - facts.consents),  # a minor's, without a guardian
    }


def _explain_table(rows: Sequence[ExplainRow], outcomes: Sequence[SubjectRow] | None = None) -> str:
    def cell(value: object) -> str:
        return "-" if value is None else str(value)

    headers = ["field", "level", "other rows", "own rows", "assigned", "mask", "reason"]
    if outcomes is not None:
        headers += ["subject", "subject level", "subject reason", "audited"]
    lines = []
    for index, row in enumerate(rows):
        line = [
            row.field,
            str(row.level),
            str(row.other),
            cell(row.owner),
            cell(row.assigned),
            cell(row.strategy),
            cell(row.reason),
        ]
        if outcomes is not None:
            outcome = outcomes[index]
            line += [
                str(outcome.disclosure),
                str(outcome.level),
                cell(outcome.reason),
                "yes" if outcome.audited else "no",
            ]
        lines.append([*line, row.rule])
    return table([*headers, "rule"], lines)


@schema_app.command("print")
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
    from fieldgate.authz.policy import load_policy
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


def _data_keyring(settings: Settings) -> Keyring:
    from fieldgate.crypto.keyring import load_keyring
    from fieldgate.errors import ConfigurationError

    try:
        return load_keyring(settings)
    except ConfigurationError as exc:
        fail(str(exc))


_DATABASE_UNREACHABLE = "cannot read the stored values: is the database reachable and upgraded?"


@keys_app.command("status")
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


@keys_app.command("rotate")
def keys_rotate(
    new_key: Annotated[
        bool,
        typer.Option(help="make a new key active first (--no-new-key finishes a rotation)"),
    ] = True,
    batch_size: Annotated[int, typer.Option(min=1, help="values per transaction")] = 500,
) -> None:
    """Make a new data key active, then re-encrypt every stored value with it.

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


@keys_app.command("retire")
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


@audit_app.command("verify")
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


# Commands kept in modules of their own register on the groups above when imported.
from fieldgate.cli import policy_matrix as _policy_matrix  # noqa: E402,F401


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
