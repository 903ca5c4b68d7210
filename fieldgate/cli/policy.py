"""``fieldgate policy``: lint, export, import, reload and explain the policy."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fieldgate.cli.explain_report import (
    age_group,
    data_subject,
    deidentification_note,
    deidentification_rules,
    delivery_days,
    delivery_note,
    explain_table,
    subject_summary,
)
from fieldgate.cli.output import fail
from fieldgate.settings import Settings

if TYPE_CHECKING:
    from fieldgate.authz.explain import DataSubject, SubjectRow

app = typer.Typer(no_args_is_help=True, help="check and explain the policy")


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


@app.command("lint")
def policy_lint(policy_dir: PolicyDir = None) -> None:
    """Check the policy in force (the database's with FIELDGATE_POLICY_SOURCE=database)
    against the schema; exit 1 naming every problem."""
    from fieldgate.authz.lint import lint_policy
    from fieldgate.authz.purposes import load_purposes
    from fieldgate.cli.policy_offline import policy_in_force
    from fieldgate.errors import PolicyError, SchemaMisdeclared
    from fieldgate.schema import build_schema
    from fieldgate.schema.catalog import build_catalog

    settings = Settings()
    folder = policy_dir or settings.policy_dir
    try:
        vocabulary = load_purposes(folder)
        try:
            in_force = asyncio.run(policy_in_force(settings, folder, vocabulary))
        except PolicyError as exc:
            if "problems" not in exc.extensions:
                raise
            problems: list[str] = exc.extensions["problems"]  # one line each, not one message
        else:
            catalog = build_catalog(build_schema()._schema, vocabulary)
            problems = lint_policy(catalog, in_force.policy)
    except PolicyError as exc:
        fail(exc.message)
    except SchemaMisdeclared as exc:
        fail(str(exc))
    if problems:
        for problem in problems:
            typer.echo(problem, err=True)
        raise typer.Exit(1)
    policy = in_force.policy
    typer.echo(
        f"policy {policy.version} of {in_force.source} is valid: {len(policy.rule_lines())}"
        f" rules, {len(policy.roles())} roles, {len(catalog.classifications)} classified fields"
    )


@app.command("export")
def policy_export(
    file: Annotated[Path, typer.Argument(help="where to write the rules; - for stdout")],
) -> None:
    """Write the rules in force (the database's with FIELDGATE_POLICY_SOURCE=database)."""
    from fieldgate.cli.policy_offline import export_rules

    text = "".join(f"{line}\n" for line in asyncio.run(export_rules(Settings())))
    if str(file) == "-":
        typer.echo(text, nl=False)
        return
    try:
        file.write_text(text, encoding="utf-8")
    except OSError:
        fail(f"cannot write {file}")
    typer.echo(f"{text.count(chr(10))} rules written to {file}")


@app.command("import")
def policy_import(
    file: Annotated[Path, typer.Argument(help="a policy.csv file", dir_okay=False)],
) -> None:
    """Check FILE and make it the database policy; running instances follow within 1 s."""
    from fieldgate.cli.policy_offline import import_rules, rules_of_text
    from fieldgate.errors import PolicyError

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


@app.command("reload")
def policy_reload() -> None:
    """Check the policy's source (folder or database) and have every instance reload it."""
    from fieldgate.cli.policy_offline import reload_everywhere
    from fieldgate.errors import PolicyError

    try:
        written = asyncio.run(reload_everywhere(Settings()))
    except PolicyError as exc:
        for problem in exc.extensions.get("problems", [exc.message]):
            typer.echo(problem, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"policy {written.version} announced: revision {written.revision}")


@app.command("explain")
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
        explain,
        explain_subject,
        explained_purpose,
        synthetic_principal,
    )
    from fieldgate.authz.purposes import load_purposes
    from fieldgate.cli.policy_offline import policy_in_force
    from fieldgate.errors import BadUserInput, PolicyError, SchemaMisdeclared
    from fieldgate.schema import build_schema
    from fieldgate.schema.catalog import build_catalog
    from fieldgate.schema.explain import explain_operation, parse_operation
    from fieldgate.schema.extensions import declared_purpose

    settings = Settings()
    folder = policy_dir or settings.policy_dir
    try:
        vocabulary = load_purposes(folder)
        in_force = asyncio.run(policy_in_force(settings, folder, vocabulary))
        policy = in_force.policy
        schema = build_schema()._schema
        catalog = build_catalog(schema, vocabulary)
    except PolicyError as exc:
        fail(exc.message)
    except SchemaMisdeclared as exc:
        fail(str(exc))
    try:
        if query is None:
            used = explained_purpose(policy, synthetic_principal(policy, role), purpose)
            rows = explain(catalog, policy, role, purpose)
        else:
            try:
                source = query.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                fail(f"cannot read {query.name} as UTF-8 text", 2)
            operation, fragments = parse_operation(schema, source)
            purpose = purpose or declared_purpose(operation, None)
            used = explained_purpose(policy, synthetic_principal(policy, role), purpose)
            rows = explain_operation(schema, catalog, policy, role, purpose, operation, fragments)
    except BadUserInput as exc:
        fail(exc.message, 2)
    person: DataSubject | None = None
    outcomes: list[SubjectRow] | None = None
    if subject is None:
        if dnt or partner_region is not None:
            fail("--dnt and --partner-region describe a request about a --subject", 2)
    else:
        person = data_subject(subject, vocabulary, catalog, used)
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
    deidentified = deidentification_rules(policy.vocabulary, used)
    if output_format is OutputFormat.JSON:
        document: dict[str, Any] = {
            "policy": policy.version,
            "source": in_force.source,
            "roles": sorted(set(role)),
            "purpose": used,
            "declarable": declarable,
            "fields": [asdict(row) for row in rows],
        }
        days = delivery_days(policy, role)
        if days is not None:
            document["deliveryDays"] = days
        if deidentified is not None:
            document["deidentification"] = deidentified
        if person is not None and outcomes is not None:
            document["subject"] = {
                **subject_summary(person),
                "doNotTrack": dnt,
                "partnerRegion": partner_region,
            }
            for field, outcome in zip(document["fields"], outcomes, strict=True):
                field["subject"] = {k: v for k, v in asdict(outcome).items() if k != "field"}
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"policy {policy.version} of {in_force.source}, roles {', '.join(sorted(set(role)))},"
        f" purpose {used or 'none'}",
        err=True,
    )
    if deidentified is not None:
        typer.echo(deidentification_note(deidentified), err=True)
    if person is not None:
        facts = person.facts
        parts = [
            f"subject {person.username} (id {person.id}): {age_group(person)}",
            f"consents in effect: {', '.join(sorted(facts.consents)) or 'none'}",
        ]
        if facts.asked - facts.consents:
            parts.append(f"not in effect: {', '.join(sorted(facts.asked - facts.consents))}")
        if facts.group_size is not None:
            parts.append(f"{facts.group_size} users share their quasi-identifiers")
        if dnt:
            parts.append("DNT")
        if partner_region:
            parts.append(f"partner region {partner_region.upper()}")
        typer.echo("; ".join(parts), err=True)
    days = delivery_days(policy, role)
    if days is not None:
        typer.echo(delivery_note(days), err=True)
    typer.echo(explain_table(rows, outcomes))
