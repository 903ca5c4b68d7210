"""Applying a plan to rows: the per-request side of disclosure.

Resolvers hand their rows here before the GraphQL executor sees them. A shaped row is a
plain ``dict`` read by the default resolver; FULL values are copied as they are, MASKED
values go through their strategy's function, DENIED values are absent (their columns were
never read). Every denial is counted per selection so that one error, not one per value,
reports it.

The data subject's facts (consents, age) are loaded only for pages that need them: pages
the request's gates apply to, and pages that may disclose a PERSONAL value in FULL, since a
child's (under 14) data is SENSITIVE whatever its field's level, and every FULL disclosure
of it is audited like a SENSITIVE one. Pages resolved together (a relation under many
parent rows) share one query: ``load_facts`` batches them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from fieldgate.authz.conditions import SUBJECT_KEY, ConditionsOf
from fieldgate.authz.consent import (
    CHILD_AGE,
    UNKNOWN_SUBJECT,
    RowGates,
    SubjectFacts,
    age_on,
    subjects_of,
)
from fieldgate.authz.decisions import Disclosure, Outcome
from fieldgate.authz.denials import Denial, Denials, ResponsePath, path_key
from fieldgate.authz.plans import PathKey, Plan, Producer
from fieldgate.authz.shapers import CoordinateKinds, MaskResolver, Shaper, shaper_for
from fieldgate.errors import FieldgateError

PRODUCER_KEY = "_producer"
BORN_KEY = "_subject_born"
"""A hidden key: the row's data subject's birth date, selected with the row when only the
subject's age (a child's data) matters, so that no second query is needed for it."""


Decrypt = Callable[[Any], Any]
LoadFacts = Callable[[list[int]], Awaitable[Mapping[int, SubjectFacts]]]


class DisclosureContext:
    """One request's disclosure: shapes rows by the plan and gathers what it withheld.

    Besides shaping, it records for the audit trail which data subjects each FULL
    disclosure of a SENSITIVE coordinate (or of a child's PERSONAL one) and each denial
    concerned (``audited``): one entry per (coordinate, outcome), never a value.
    """

    def __init__(
        self,
        plan: Plan,
        conditions_of: ConditionsOf,
        masks: MaskResolver,
        relations: Iterable[str] = (),
        *,
        sensitive: Iterable[str] = (),
        encrypted: Iterable[str] = (),
        decrypt: Decrypt | None = None,
        personal: Iterable[str] = (),
        gates: RowGates | None = None,
        load_facts: LoadFacts | None = None,
    ) -> None:
        """``relations``: coordinates of relation fields (resolved, not shaped);
        ``sensitive``: SENSITIVE coordinates, whose FULL disclosures are audited;
        ``encrypted``: coordinates stored encrypted, opened with ``decrypt`` only when read
        (a column is read only when the plan may disclose it); ``gates``: the request's
        consent, Do-Not-Track and cross-border conditions, applied to the ``personal``
        coordinates of each row with the subject facts ``load_facts`` returns; those facts
        also tell which subjects are children, whose ``personal`` values that are not
        ``sensitive`` are audited as SENSITIVE ones when disclosed in FULL."""
        self.plan = plan
        self.conditions_of = conditions_of
        self.masks = masks
        self.relation_coordinates = frozenset(relations)
        self.sensitive_coordinates = frozenset(sensitive)
        self.encrypted_coordinates = frozenset(encrypted)
        self.decrypt = decrypt
        self.personal_coordinates = frozenset(personal)
        self.kinds = CoordinateKinds(
            relations=self.relation_coordinates,
            sensitive=self.sensitive_coordinates,
            encrypted=self.encrypted_coordinates,
            personal=self.personal_coordinates,
            # PERSONAL level: SENSITIVE for a child's data
            child_sensitive=self.personal_coordinates - self.sensitive_coordinates,
        )
        self.gates = gates if gates is not None and gates.active else None
        self.load_facts = load_facts
        self.facts: dict[int, SubjectFacts] = {}
        self.children: dict[int, bool] = {}  # from birth dates selected with the rows
        self.today = datetime.now(UTC).date()
        self._shapers: dict[PathKey, Shaper] = {}
        self._denials = Denials()
        self.masked_coordinates: set[str] = set()
        self.audited: dict[tuple[str, Disclosure], set[int]] = {}

    def ignore_subjects(self) -> None:
        """Ask no data subject anything: no gates, no child's data. Only when
        ``Services.subjects_asked`` is off, which only a benchmark does."""
        self.gates = None
        self.kinds = replace(self.kinds, child_sensitive=frozenset())
        self._shapers.clear()

    # -- shaping ------------------------------------------------------------------------
    def producer(self, path: ResponsePath) -> Producer:
        """The producer for a resolver's ``info.path``; a missing one is a bug: fail closed."""
        producer = self.plan.producer(path_key(path))
        if producer is None:
            raise FieldgateError("the operation could not be planned")
        return producer

    def _shaper(self, producer: Producer) -> Shaper:
        shaper = self._shapers.get(producer.key)
        if shaper is None:
            shaper = shaper_for(
                producer,
                self.kinds,
                self.masks,
                gated=self.gates is not None,
                can_decrypt=self.decrypt is not None,
            )
            self._shapers[producer.key] = shaper
        return shaper

    def _subjects(self, coordinate: str, disclosure: Disclosure) -> set[int]:
        key = (coordinate, disclosure)
        subjects = self.audited.get(key)
        if subjects is None:
            subjects = self.audited[key] = set()
        return subjects

    def _note(self, coordinate: str, disclosure: Disclosure, row: Mapping[str, Any]) -> None:
        subject = row.get(SUBJECT_KEY)
        subjects = self._subjects(coordinate, disclosure)
        if subject is not None:
            subjects.add(subject)

    def wants_birth_dates(self, producer: Producer) -> bool:
        """Whether the rows of ``producer`` should carry their subject's birth date
        (``BORN_KEY``): when the subject's age is all their disclosure asks."""
        shaper = self._shaper(producer)
        return shaper.needs_facts and not shaper.gated

    async def disclose(
        self, path: ResponsePath, rows: Sequence[Mapping[str, Any]]
    ) -> list[dict[str, Any]]:
        """Disclose ``rows`` produced at ``path``, loading their subjects' facts if needed."""
        shaper = self._shaper(self.producer(path))
        if rows and shaper.needs_facts:
            unknown = subjects_of(rows) if shaper.gated else self._ages_from(rows)
            if unknown:
                await self._know(unknown)
        return self.shape(path, rows)

    def _ages_from(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Learn which subjects are children from the birth dates selected with ``rows``;
        return the subjects still unknown (no birth date with the row: the database says)."""
        unknown: set[int] = set()
        children, facts = self.children, self.facts
        for row in rows:
            subject = row.get(SUBJECT_KEY)
            if not isinstance(subject, int) or subject in children or subject in facts:
                continue
            born = row.get(BORN_KEY)
            if born is None:
                unknown.add(subject)
            else:
                age = age_on(born, self.today)
                children[subject] = age is not None and age < CHILD_AGE
        return sorted(unknown)

    async def _know(self, subjects: list[int]) -> None:
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

    def shape(self, path: ResponsePath, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Disclose ``rows`` produced at ``path`` (a resolver's ``info.path``)."""
        producer = self.producer(path)
        shaper = self._shaper(producer)
        gates, gated = self.gates, shaper.gated
        watched, child_full = shaper.watched, shaper.child_full
        sensitive = self.sensitive_coordinates
        withheld: set[int] = set()
        shaped: list[dict[str, Any]] = []
        decrypted, masked, conditional = shaper.decrypted, shaper.masked, shaper.conditional
        decrypt = self.decrypt
        for index, row in enumerate(rows):
            values = dict(row)
            values[PRODUCER_KEY] = producer
            if decrypted:
                assert decrypt is not None
                for attribute in decrypted:
                    value = values.get(attribute)
                    if value is not None:
                        values[attribute] = decrypt(value)
            for attribute, mask, coordinate in masked:
                value = values.get(attribute)
                if value is not None:
                    values[attribute] = mask(value)
                    self.masked_coordinates.add(coordinate)
            full: list[tuple[str, str]] = []
            if conditional:
                conditions = self.conditions_of(values)
                for attribute, rule in conditional:
                    outcome = rule.outcome_for(conditions)
                    if outcome.disclosure is Disclosure.FULL:
                        if rule.coordinate in watched:
                            full.append((attribute, rule.coordinate))
                        continue
                    value = values.pop(attribute, None)
                    if outcome.disclosure is Disclosure.MASKED:
                        assert outcome.strategy is not None
                        if value is not None:
                            values[attribute] = self.masks(outcome.strategy, rule.coordinate)(value)
                            self.masked_coordinates.add(rule.coordinate)
                    else:
                        self._denials.of_attribute(producer, path, index, attribute, outcome, 1)
                        self._note(rule.coordinate, Disclosure.DENIED, values)
            if gated or child_full or full:
                subject = values.get(SUBJECT_KEY)
                facts = self.facts.get(subject) if subject is not None else None
                if gated:
                    assert gates is not None
                    for attribute, coordinate in gated:
                        if attribute not in values:
                            continue
                        reason = gates.reason(coordinate, subject, facts)
                        if reason is not None:
                            del values[attribute]
                            outcome = Outcome(Disclosure.DENIED, reason=reason, rule="data subject")
                            self._denials.of_attribute(producer, path, index, attribute, outcome, 1)
                            self._note(coordinate, Disclosure.DENIED, values)
                            withheld.add(index)
                # what the gates left of the FULL values: audited when SENSITIVE, and a
                # child's PERSONAL data is (facts never loaded count as a child's: fail closed)
                child = subject is not None and (
                    facts.child if facts is not None else self.children.get(subject, True)
                )
                for attribute, coordinate in full:
                    if attribute in values and (coordinate in sensitive or child):
                        self._note(coordinate, Disclosure.FULL, values)
                if child and child_full:
                    assert subject is not None
                    for attribute, coordinate in child_full:
                        if attribute in values:
                            self._subjects(coordinate, Disclosure.FULL).add(subject)
            shaped.append(values)
        if rows and (shaper.audited_full or shaper.denied):
            subjects = {
                row[SUBJECT_KEY]
                for index, row in enumerate(rows)
                if row.get(SUBJECT_KEY) is not None and index not in withheld
            }
            for coordinate in shaper.audited_full:
                self._subjects(coordinate, Disclosure.FULL).update(subjects)
            for attribute, outcome in shaper.denied:
                self._denials.of_attribute(producer, path, 0, attribute, outcome, len(rows))
                coordinate = producer.rules[attribute].coordinate
                self._subjects(coordinate, Disclosure.DENIED).update(subjects)
        return shaped

    def relation_allowed(
        self, path: ResponsePath, parent: Mapping[str, Any], attribute: str
    ) -> bool:
        """Whether a relation field (``Order.items``) may be followed from this parent row."""
        producer: Producer | None = parent.get(PRODUCER_KEY)
        if producer is None:
            return False
        rule = producer.rules.get(attribute)
        if rule is None:
            return False
        outcome = rule.default if rule.is_static else rule.outcome_for(self.conditions_of(parent))
        if outcome.disclosure is Disclosure.DENIED:
            self._denials.at(path, rule.coordinate, outcome)
            self._note(rule.coordinate, Disclosure.DENIED, parent)
            return False
        return True

    # -- reporting ----------------------------------------------------------------------
    @property
    def denied(self) -> bool:
        return bool(self._denials)

    def denials(self) -> list[Denial]:
        """One record per denied selection, at the first value it nulled."""
        return self._denials.records(self.plan.purpose)

    def summary(self) -> dict[str, Any]:
        """``extensions.disclosure``: the purpose and which coordinates were masked or denied."""
        return {
            "purpose": self.plan.purpose,
            "masked": sorted(self.masked_coordinates),
            "denied": sorted(self._denials.coordinates()),
        }
