"""The data subject's say in each decision: consent, Do-Not-Track, minors, cross-border,
and children, whose data is SENSITIVE whatever its field's level.

Gates are compiled once per request from the principal, the purpose and the request's
Do-Not-Track signal; per row they need only the row's data subject and that subject's
facts (active consents, age), which the caller loads for a whole page at once
(``fieldgate.resolvers.subjects``).
A gate can only deny: it never widens what the plan decided.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from fieldgate.authz.classification import Level
from fieldgate.authz.decisions import DenialReason
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.authz.purposes import PurposeVocabulary

CROSS_BORDER = "CROSS_BORDER"
"""The separate consent a user gives to transfers of their data outside mainland China."""
MAINLAND = "CN"
IDENTITY_VERIFICATION = "IDENTITY_VERIFICATION"
# Fields whose use for identity verification needs the subject's separate consent.
IDENTITY_COORDINATES = frozenset({"User.idNumber", "Order.buyerIdNumber"})
# Purposes Do-Not-Track (DNT: 1, Sec-GPC: 1) keeps the caller's own data out of.
TRACKING_PURPOSES = frozenset({"PERSONALISATION", "MARKETING"})
ADULT_AGE = 18
CHILD_AGE = 14


def age_on(birth_date: date | None, today: date) -> int | None:
    if birth_date is None:
        return None
    years = today.year - birth_date.year
    return years - ((today.month, today.day) < (birth_date.month, birth_date.day))


@dataclass(frozen=True, slots=True)
class SubjectFacts:
    """What the gates need to know about one data subject.

    ``consents`` are the purposes whose consent is in effect: for a minor, only those backed
    by a guardian's consent; ``asked`` are all active opt-ins, in effect or not.
    """

    consents: frozenset[str]
    asked: frozenset[str]
    minor: bool = False
    child: bool = False
    # how many data subjects share this one's quasi-identifiers; None when not counted
    group_size: int | None = None


NO_FACTS = SubjectFacts(frozenset(), frozenset())
UNKNOWN_SUBJECT = SubjectFacts(frozenset(), frozenset(), minor=True, child=True)
"""The facts of a subject that could not be found: no consent in effect, and the care a
child's data gets (fail closed)."""


def subject_level(level: Level, facts: SubjectFacts) -> Level:
    """The level a subject's value is treated at: a child's PERSONAL data is SENSITIVE."""
    return Level.SENSITIVE if facts.child and level is Level.PERSONAL else level


def facts_of(
    birth_date: date | None,
    opt_ins: Iterable[tuple[str, bool]],
    today: date,
    group_size: int | None = None,
) -> SubjectFacts:
    """One subject's facts on ``today`` from their birth date and active opt-ins, each a
    purpose and whether a guardian's consent backs it (what a minor's consent needs), and
    the size of the group sharing their quasi-identifiers when it was counted."""
    age = age_on(birth_date, today)
    asked: set[str] = set()
    guarded: set[str] = set()
    for purpose, guardian in opt_ins:
        asked.add(purpose)
        if guardian:
            guarded.add(purpose)
    minor = age is not None and age < ADULT_AGE
    return SubjectFacts(
        consents=frozenset(guarded if minor else asked),
        asked=frozenset(asked),
        minor=minor,
        child=age is not None and age < CHILD_AGE,
        group_size=group_size,
    )


@dataclass(frozen=True, slots=True)
class RowGates:
    """The per-row conditions of one request, beyond what the plan decided statically."""

    consent_purpose: str | None = None
    identity_consent: bool = False
    tracking_subject: int | None = None
    cross_border: bool = False
    # a de-identified purpose: a minor's values need a guardian's consent to it
    deidentified_purpose: str | None = None
    # ... and these quasi-identifiers need a group of at least k data subjects
    quasi_identifiers: frozenset[str] = frozenset()
    k: int = 0

    @property
    def active(self) -> bool:
        return bool(
            self.consent_purpose
            or self.identity_consent
            or self.tracking_subject is not None
            or self.cross_border
            or self.deidentified_purpose
        )

    @property
    def counts_groups(self) -> bool:
        """Whether the subjects' group sizes are needed (``SubjectFacts.group_size``)."""
        return bool(self.quasi_identifiers)

    def reason(
        self, coordinate: str, subject: int | None, facts: SubjectFacts | None
    ) -> DenialReason | None:
        """Why this subject's value of ``coordinate`` is withheld, or None (facts of a missing
        subject count as none: fail closed)."""
        if subject is None:
            return None
        facts = facts or NO_FACTS
        if self.tracking_subject is not None and subject == self.tracking_subject:
            return DenialReason.DO_NOT_TRACK
        if self.cross_border and CROSS_BORDER not in facts.consents:
            return DenialReason.CROSS_BORDER_CONSENT_REQUIRED
        needed = self.consent_purpose
        if needed is None and self.identity_consent and coordinate in IDENTITY_COORDINATES:
            needed = IDENTITY_VERIFICATION
        if needed is not None and needed not in facts.consents:
            if facts.minor and needed in facts.asked:
                return DenialReason.GUARDIAN_CONSENT_REQUIRED
            return DenialReason.CONSENT_REQUIRED
        deidentified = self.deidentified_purpose
        if deidentified is not None and facts.minor and deidentified not in facts.consents:
            return DenialReason.GUARDIAN_CONSENT_REQUIRED
        if coordinate in self.quasi_identifiers and (facts.group_size or 0) < self.k:
            return DenialReason.K_ANONYMITY  # a group never counted is a group too small
        return None


def compile_gates(
    principal: Principal,
    purpose: str | None,
    vocabulary: PurposeVocabulary,
    *,
    do_not_track: bool,
) -> RowGates:
    """The gates of one request (computed once, before execution)."""
    consent_purpose = None
    if purpose is not None:
        consent_purpose = next(
            (p for p in vocabulary.lineage(purpose) if p in vocabulary.needs_consent), None
        )
    tracking = (
        principal.user_id
        if do_not_track and purpose is not None and purpose in TRACKING_PURPOSES
        else None
    )
    cross_border = (
        principal.kind is PrincipalKind.PARTNER
        and (principal.partner_region or MAINLAND) != MAINLAND
    )
    rules = vocabulary.deidentification
    lineage = vocabulary.lineage(purpose) if purpose is not None else ()
    deidentified = rules.covers(lineage)
    return RowGates(
        consent_purpose=consent_purpose,
        identity_consent=purpose is not None
        and IDENTITY_VERIFICATION in vocabulary.lineage(purpose),
        tracking_subject=tracking,
        cross_border=cross_border,
        deidentified_purpose=deidentified,
        quasi_identifiers=frozenset(rules.quasi_identifiers if deidentified else ()),
        k=rules.k if deidentified else 0,
    )


def subjects_of(rows: Iterable[Mapping[str, object]]) -> list[int]:
    found = {row.get("_subject") for row in rows}
    return sorted(s for s in found if isinstance(s, int))
