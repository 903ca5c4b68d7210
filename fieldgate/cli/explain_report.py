"""How ``fieldgate policy explain`` shows an explanation: the data subject and the table."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from fieldgate.cli.output import fail, table
from fieldgate.settings import Settings

if TYPE_CHECKING:
    from fieldgate.authz.classification import Catalog
    from fieldgate.authz.explain import DataSubject, ExplainRow, SubjectRow
    from fieldgate.authz.policy import Policy
    from fieldgate.authz.purposes import PurposeVocabulary


def delivery_days(policy: Policy, roles: Sequence[str]) -> int | None:
    """The policy's days after delivery when the roles see routed orders, else None."""
    from fieldgate.authz.policy_rules import RowScope

    if RowScope.ROUTED not in policy.row_scopes(frozenset(roles), "Order"):
        return None
    return policy.vocabulary.delivery_days


def delivery_note(days: int) -> str:
    """The routed-orders row scope in words."""
    return (
        f"rows: orders routed to the partner while paid or shipped, and for {days} days"
        " after delivery ([delivery] days_after_delivery)"
    )


def data_subject(
    who: str, vocabulary: PurposeVocabulary, catalog: Catalog, purpose: str | None
) -> DataSubject:
    """The data subject ``who`` (username or id) and their facts, from the database; for a
    de-identified ``purpose``, the size of their group too."""
    from sqlalchemy.exc import SQLAlchemyError

    from fieldgate.errors import BadUserInput
    from fieldgate.infra.db import create_engine
    from fieldgate.resolvers.groups import QuasiIdentifierGroups
    from fieldgate.resolvers.subjects import load_data_subject

    rules = vocabulary.deidentification
    deidentified = rules.covers(vocabulary.lineage(purpose)) if purpose is not None else None

    async def run() -> DataSubject:
        engine = create_engine(Settings().database_url)
        try:
            groups = None
            if deidentified is not None:
                counter = QuasiIdentifierGroups(rules, catalog)
                groups = await counter.sizes(engine, deidentified)
            async with engine.connect() as connection:
                today = datetime.now(UTC).date()
                return await load_data_subject(connection, who, today, groups)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except BadUserInput as exc:
        fail(exc.message, 2)
    except (SQLAlchemyError, OSError):
        fail("cannot read the data subject: is the database reachable and upgraded?")


def age_group(person: DataSubject) -> str:
    """``child under 14``, ``minor`` or ``adult``."""
    facts = person.facts
    return "child under 14" if facts.child else "minor" if facts.minor else "adult"


def subject_summary(person: DataSubject) -> dict[str, object]:
    """The data subject as ``--format json`` shows them."""
    facts = person.facts
    return {
        "id": person.id,
        "username": person.username,
        "age": age_group(person),
        "consents": sorted(facts.consents),
        "notInEffect": sorted(facts.asked - facts.consents),  # a minor's, without a guardian
        "groupSize": facts.group_size,  # users sharing their quasi-identifiers (de-identified)
    }


def deidentification_rules(
    vocabulary: PurposeVocabulary, purpose: str | None
) -> dict[str, object] | None:
    """The per-row rules of a de-identified purpose (``None`` for any other purpose)."""
    rules = vocabulary.deidentification
    if purpose is None or rules.covers(vocabulary.lineage(purpose)) is None:
        return None
    return {
        "k": rules.k,
        "quasiIdentifiers": list(rules.quasi_identifiers),
        "refreshSeconds": rules.refresh_seconds,
        "minorsNeedGuardianConsent": True,
    }


def deidentification_note(rules: dict[str, object]) -> str:
    """One line saying what a de-identified purpose withholds per row."""
    identifiers = rules["quasiIdentifiers"]
    assert isinstance(identifiers, list)
    return (
        f"de-identified purpose: {', '.join(identifiers)} withheld (K_ANONYMITY) on rows whose"
        f" combination fewer than k={rules['k']} users share (recounted every"
        f" {rules['refreshSeconds']} s); a minor's personal values need a guardian's consent"
    )


def explain_table(rows: Sequence[ExplainRow], outcomes: Sequence[SubjectRow] | None = None) -> str:
    """The explanation as a table: a line per field, the subject's outcome beside it."""

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
