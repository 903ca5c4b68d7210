"""What one request knows of its rows' data subjects: their facts (consents, age), loaded
once per subject, and whether each is a child, from birth dates selected with the rows.

A subject whose facts cannot be found is known as such (``UNKNOWN_SUBJECT``), and one
whose age is unknown counts as a child: fail closed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from fieldgate.authz.conditions import SUBJECT_KEY
from fieldgate.authz.consent import CHILD_AGE, UNKNOWN_SUBJECT, SubjectFacts, age_on
from fieldgate.errors import FieldgateError

LoadFacts = Callable[[list[int]], Awaitable[Mapping[int, SubjectFacts]]]


class KnownSubjects:
    """The facts and ages of the data subjects a request has met so far."""

    def __init__(self, load_facts: LoadFacts | None) -> None:
        self.load_facts = load_facts
        self.facts: dict[int, SubjectFacts] = {}
        self.children: dict[int, bool] = {}
        self.today = datetime.now(UTC).date()

    def ages_from(self, rows: Sequence[Mapping[str, Any]], born_key: str) -> list[int]:
        """Learn which subjects are children from the birth dates selected with ``rows``;
        return the subjects still unknown (no birth date with the row: the database says)."""
        unknown: set[int] = set()
        children, facts = self.children, self.facts
        for row in rows:
            subject = row.get(SUBJECT_KEY)
            if not isinstance(subject, int) or subject in children or subject in facts:
                continue
            born = row.get(born_key)
            if born is None:
                unknown.add(subject)
            else:
                age = age_on(born, self.today)
                children[subject] = age is not None and age < CHILD_AGE
        return sorted(unknown)

    async def know(self, subjects: list[int]) -> None:
        """Load the facts of ``subjects`` not known yet (``load_facts`` batches the calls
        made together: one query, never one per row)."""
        missing = [s for s in subjects if s not in self.facts]
        if not missing:
            return
        if self.load_facts is None:
            raise FieldgateError("subject facts cannot be loaded")
        loaded = await self.load_facts(missing)
        for subject in missing:  # a subject not found is known as such: fail closed
            self.facts[subject] = loaded.get(subject, UNKNOWN_SUBJECT)
