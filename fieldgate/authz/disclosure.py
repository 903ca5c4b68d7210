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

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from fieldgate.authz.conditions import SUBJECT_KEY, ConditionsOf
from fieldgate.authz.consent import RowGates, subjects_of
from fieldgate.authz.decisions import Disclosure, Outcome
from fieldgate.authz.denials import Denial, Denials, ResponsePath, path_key
from fieldgate.authz.known_subjects import KnownSubjects, LoadFacts
from fieldgate.authz.marks import DisclosureMarks
from fieldgate.authz.plans import PathKey, Plan, Producer
from fieldgate.authz.shapers import CoordinateKinds, MaskResolver, Shaper, shaper_for
from fieldgate.errors import FieldgateError

PRODUCER_KEY = "_producer"
BORN_KEY = "_subject_born"
"""A hidden key: the row's data subject's birth date, selected with the row when only the
subject's age (a child's data) matters, so that no second query is needed for it."""


Decrypt = Callable[[Any], Any]


class DisclosureContext:
    """One request's disclosure: shapes rows by the plan and gathers what it withheld.

    Besides shaping, it records for the audit trail which data subjects each FULL
    disclosure of a SENSITIVE coordinate (or of a child's PERSONAL one) and each denial
    concerned (``audited``), and, with ``reads``, which subjects' values were disclosed
    MASKED or, for PERSONAL coordinates, in FULL (``read``): one entry per (coordinate,
    outcome), never a value.
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
        reads: bool = False,
    ) -> None:
        """``relations``: coordinates of relation fields (resolved, not shaped);
        ``sensitive``: SENSITIVE coordinates, whose FULL disclosures are audited;
        ``encrypted``: coordinates stored encrypted, opened with ``decrypt`` only when read
        (a column is read only when the plan may disclose it); ``gates``: the request's
        consent, Do-Not-Track and cross-border conditions, applied to the ``personal``
        coordinates of each row with the subject facts ``load_facts`` returns; those facts
        also tell which subjects are children, whose ``personal`` values that are not
        ``sensitive`` are audited as SENSITIVE ones when disclosed in FULL; ``reads``:
        record the other reads of ``personal`` values too (``read``)."""
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
        self.known = KnownSubjects(load_facts)
        self.facts = self.known.facts  # the loaded facts, by subject
        self.children = self.known.children  # from birth dates selected with the rows
        self._shapers: dict[PathKey, Shaper] = {}
        self._denials = Denials()
        self.masked_coordinates: set[str] = set()
        self.marks = DisclosureMarks()  # where each mask and denial applied
        self.audited: dict[tuple[str, Disclosure], set[int]] = {}
        self.reads = reads
        self.read: dict[tuple[str, Disclosure], set[int]] = {}

    def ignore_subjects(self) -> None:
        """Ask no data subject anything: no gates, no child's data. Only when
        ``Services.subjects_asked`` is off, which only a benchmark does."""
        self.gates = None
        self.reads = False
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

    def _read(self, coordinate: str, disclosure: Disclosure) -> set[int]:
        key = (coordinate, disclosure)
        subjects = self.read.get(key)
        if subjects is None:
            subjects = self.read[key] = set()
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
            known = self.known
            unknown = subjects_of(rows) if shaper.gated else known.ages_from(rows, BORN_KEY)
            if unknown:
                await known.know(unknown)
        return self.shape(path, rows)

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
        decrypt, marks = self.decrypt, self.marks
        reads, personal = self.reads, self.personal_coordinates
        for index, row in enumerate(rows):
            values = dict(row)
            values[PRODUCER_KEY] = producer
            if decrypted:
                assert decrypt is not None
                for attribute in decrypted:
                    value = values.get(attribute)
                    if value is not None:
                        values[attribute] = decrypt(value)
            masked_here: list[tuple[str, str]] = []  # read MASKED, unless a gate withholds it
            for attribute, mask, coordinate in masked:
                value = values.get(attribute)
                if value is not None:
                    values[attribute] = mask(value)
                    self.masked_coordinates.add(coordinate)
                    marks.mark(path, producer, attribute, producer.rules[attribute].default, index)
                    masked_here.append((attribute, coordinate))
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
                            marks.mark(path, producer, attribute, outcome, index)
                            masked_here.append((attribute, rule.coordinate))
                    else:
                        self._denials.of_attribute(producer, path, index, attribute, outcome, 1)
                        marks.mark(path, producer, attribute, outcome, index)
                        self._note(rule.coordinate, Disclosure.DENIED, values)
            subject = values.get(SUBJECT_KEY)
            if gated or child_full or full:
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
                            marks.mark(path, producer, attribute, outcome, index)
                            self._note(coordinate, Disclosure.DENIED, values)
                            withheld.add(index)
                # what the gates left of the FULL values: audited when SENSITIVE, and a
                # child's PERSONAL data is (facts never loaded count as a child's: fail closed)
                child = subject is not None and (
                    facts.child if facts is not None else self.children.get(subject, True)
                )
                for attribute, coordinate in full:
                    if attribute in values:
                        if coordinate in sensitive or child:
                            self._note(coordinate, Disclosure.FULL, values)
                        elif reads and subject is not None and values[attribute] is not None:
                            self._read(coordinate, Disclosure.FULL).add(subject)
                if child and child_full:
                    assert subject is not None
                    for attribute, coordinate in child_full:
                        if attribute in values:
                            self._subjects(coordinate, Disclosure.FULL).add(subject)
                elif reads and child_full and subject is not None:
                    for attribute, coordinate in child_full:
                        if values.get(attribute) is not None:
                            self._read(coordinate, Disclosure.FULL).add(subject)
            if reads and masked_here and subject is not None:
                for attribute, coordinate in masked_here:
                    if attribute in values and coordinate in personal:
                        self._read(coordinate, Disclosure.MASKED).add(subject)
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
                marks.mark(path, producer, attribute, outcome, 0, len(rows))
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
            self.marks.mark_at(path.as_list(), rule.coordinate, outcome)
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
        """``extensions.disclosure``: the purpose, which coordinates were masked or denied,
        and where (``paths``: see ``authz.marks``)."""
        return {
            "purpose": self.plan.purpose,
            "masked": sorted(self.masked_coordinates),
            "denied": sorted(self._denials.coordinates()),
            "paths": self.marks.summary(),
        }
