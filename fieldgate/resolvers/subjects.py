"""Data subjects' facts from the database: active consents and birth dates, for the
engine's consent gates and a child's data (``fieldgate.authz.consent``).

A request asks through one ``DataLoader``: the pages resolved together (a relation under
each parent row) share one query, never one per row, and a subject is loaded once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from strawberry.dataloader import DataLoader

from fieldgate.authz.consent import UNKNOWN_SUBJECT, SubjectFacts, facts_of
from fieldgate.authz.explain import DataSubject
from fieldgate.errors import BadUserInput
from fieldgate.models.tables import consents, users

# Users left-joined to their active consents: one row per (subject, active consent).
_FACTS = (
    select(users.c.id, users.c.birth_date, consents.c.purpose, consents.c.guardian_consent)
    .select_from(
        users.outerjoin(
            consents,
            and_(consents.c.user_id == users.c.id, consents.c.withdrawn_at.is_(None)),
        )
    )
    .where(users.c.id.in_(bindparam("subjects", expanding=True)))
)


async def load_subject_facts(
    connection: AsyncConnection,
    subject_ids: Sequence[int],
    today: date,
    groups: Mapping[int, int] | None = None,
) -> dict[int, SubjectFacts]:
    """Facts of many subjects in one query (a statement built once, rows read as tuples:
    this runs for every page that may disclose a PERSONAL value in FULL). Subjects not
    found are absent. With ``groups`` (user id -> size of the group sharing their
    quasi-identifiers), each subject's group size too (0 when not counted)."""
    result = await connection.execute(_FACTS, {"subjects": list(subject_ids)})
    born: dict[int, date | None] = {}
    opt_ins: dict[int, list[tuple[str, bool]]] = {}
    for subject, birth_date, purpose, guardian in result:
        if subject not in born:
            born[subject] = birth_date
            opt_ins[subject] = []
        if purpose is not None:
            opt_ins[subject].append((purpose, bool(guardian)))
    return {
        subject: facts_of(
            born[subject],
            opt_ins[subject],
            today,
            None if groups is None else groups.get(subject, 0),
        )
        for subject in born
    }


def subject_facts_loader(
    engine: AsyncEngine, groups: Callable[[], Awaitable[Mapping[int, int]]] | None = None
) -> DataLoader[int, SubjectFacts]:
    """One request's loader of subject facts; a subject not found gets the facts that fail
    closed (``UNKNOWN_SUBJECT``). ``groups`` gives the group sizes when the request's
    gates need them."""

    async def load(subject_ids: list[int]) -> list[SubjectFacts]:
        sizes = await groups() if groups is not None else None
        async with engine.connect() as connection:
            found = await load_subject_facts(
                connection, subject_ids, datetime.now(UTC).date(), sizes
            )
        return [found.get(subject, UNKNOWN_SUBJECT) for subject in subject_ids]

    return DataLoader(load_fn=load)


async def load_data_subject(
    connection: AsyncConnection,
    who: str,
    today: date,
    groups: Mapping[int, int] | None = None,
) -> DataSubject:
    """The user named ``who`` (a username, or else a user id) and their facts on ``today``
    (with their group size from ``groups`` when given)."""
    found = (
        await connection.execute(
            select(users.c.id, users.c.username).where(users.c.username == who)
        )
    ).first()
    if found is None and who.isdigit():
        found = (
            await connection.execute(
                select(users.c.id, users.c.username).where(users.c.id == int(who))
            )
        ).first()
    if found is None:
        raise BadUserInput(f"unknown data subject {who} (no user of that name or id)")
    facts = await load_subject_facts(connection, [found.id], today, groups)
    return DataSubject(found.id, found.username, facts.get(found.id, UNKNOWN_SUBJECT))
