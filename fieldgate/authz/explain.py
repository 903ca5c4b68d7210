"""What a set of roles would see of every field under a purpose (``policy explain``).

The rows come from the same ``decide_field`` the gateway runs, for a synthetic principal
holding the roles: one row per field coordinate with its disclosure on other rows, on the
caller's own rows and on tickets assigned to the caller, and the casbin line (or the
classification's or purpose's reason) that decided it.

With a data subject, each field also gets the outcome on that subject's rows after the
per-row gates the gateway applies (consent, guardian consent, Do-Not-Track, cross-border),
and the level the subject's value is treated at (a child's PERSONAL data is SENSITIVE).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from fieldgate.authz.classification import Catalog, Classification, Level
from fieldgate.authz.consent import MAINLAND, SubjectFacts, compile_gates, subject_level
from fieldgate.authz.decisions import (
    DenialReason,
    Disclosure,
    FieldRule,
    Outcome,
    decide_field,
    effective_purpose,
)
from fieldgate.authz.masking import MaskStrategy
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_rules import ANONYMOUS_ROLE, RowCondition
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.errors import BadUserInput, PurposeNotAllowed

USER_ROLE = "user"
PARTNER_ROLES = frozenset({"logistics", "payment", "merchant", "analytics"})
"""The roles partners hold (``Partner.kind``); every other named role is a staff role."""

_ANY_ROWS = frozenset({RowCondition.ANY})
_OWNER_ROWS = frozenset({RowCondition.ANY, RowCondition.OWNER})
_ASSIGNED_ROWS = frozenset({RowCondition.ANY, RowCondition.ASSIGNED})


@dataclass(frozen=True, slots=True)
class ExplainRow:
    """The disclosure of one field coordinate, on each kind of row.

    ``owner`` and ``assigned`` are None when the principal can never meet that condition
    (only users own rows, only staff are assigned tickets). ``strategy`` is set when some
    row gets the value MASKED, ``reason`` when some row is DENIED it; ``rule`` names what
    decided, the upgrades on own or assigned rows after the rest.
    """

    field: str
    level: Level
    other: Disclosure
    owner: Disclosure | None
    assigned: Disclosure | None
    strategy: MaskStrategy | None
    reason: DenialReason | None
    rule: str


def principal_kind(roles: Iterable[str]) -> PrincipalKind:
    """The kind of principal that holds ``roles``; one token never mixes kinds."""
    kinds = {_kind_of(role) for role in roles if role != ANONYMOUS_ROLE}
    if not kinds:
        return PrincipalKind.ANONYMOUS
    if len(kinds) > 1:
        listed = ", ".join(sorted(kinds))
        raise BadUserInput(f"the roles belong to different kinds of principal ({listed})")
    return kinds.pop()


def _kind_of(role: str) -> PrincipalKind:
    if role == USER_ROLE:
        return PrincipalKind.USER
    if role in PARTNER_ROLES:
        return PrincipalKind.PARTNER
    return PrincipalKind.STAFF


def synthetic_principal(policy: Policy, roles: Iterable[str]) -> Principal:
    """A principal with id 0 holding ``roles``; an unknown role is ``BadUserInput``."""
    held = frozenset(roles)
    if not held:
        raise BadUserInput("name at least one role")
    unknown = sorted(held - policy.roles())
    if unknown:
        raise BadUserInput(f"unknown role {', '.join(unknown)} (not in the policy)")
    kind = principal_kind(held)
    principal_id = None if kind is PrincipalKind.ANONYMOUS else 0
    return Principal(kind=kind, id=principal_id, name="explain", roles=held)


def explained_purpose(policy: Policy, principal: Principal, purpose: str | None) -> str | None:
    """The purpose an explanation runs under (``effective_purpose``, as served, without the
    check that the roles may declare it: the command notes that apart); an unknown purpose
    is ``BadUserInput``."""
    try:
        return effective_purpose(policy, principal, purpose, check_declarable=False)
    except PurposeNotAllowed as refused:
        raise BadUserInput(refused.message) from None


def explain(
    catalog: Catalog,
    policy: Policy,
    roles: Iterable[str],
    purpose: str | None,
    coordinates: Iterable[str] | None = None,
) -> list[ExplainRow]:
    """One row per coordinate (every classified one when ``coordinates`` is None, else those
    an operation selects: ``fieldgate.schema.explain``), sorted.

    ``purpose`` is the one the operation would run under; None means none was declared,
    except for a user, whose operations default to RIGHTS. Unknown roles, purposes and
    coordinates are ``BadUserInput``.
    """
    principal = synthetic_principal(policy, roles)
    purpose = explained_purpose(policy, principal, purpose)
    wanted = sorted(catalog.classifications if coordinates is None else set(coordinates))
    unknown = [c for c in wanted if c not in catalog.classifications]
    if unknown:
        raise BadUserInput(f"unclassified field {', '.join(unknown)}")
    rules = {
        c: decide_field(catalog.classifications[c], principal, purpose, policy) for c in wanted
    }
    return _rows(catalog, principal.kind, rules)


def _rows(
    catalog: Catalog, kind: PrincipalKind, rules: Mapping[str, FieldRule]
) -> list[ExplainRow]:
    return [_row(catalog.classifications[c], kind, rules[c]) for c in sorted(rules)]


def _row(classification: Classification, kind: PrincipalKind, rule: FieldRule) -> ExplainRow:
    other = rule.default
    # Only the conditions this kind of principal can meet (see ``authz.conditions``).
    owner = rule.outcome_for(_OWNER_ROWS) if kind is PrincipalKind.USER else None
    assigned = rule.outcome_for(_ASSIGNED_ROWS) if kind is PrincipalKind.STAFF else None
    labelled: list[tuple[str, Outcome]] = [("other", other)]
    for label, outcome in (("owner", owner), ("assigned", assigned)):
        if outcome is not None:
            labelled.append((label, outcome))
    outcomes = [o for _, o in labelled]
    masked = next((o for o in outcomes if o.disclosure is Disclosure.MASKED), None)
    denied = next((o for o in outcomes if o.disclosure is Disclosure.DENIED), None)
    return ExplainRow(
        field=classification.coordinate,
        level=classification.level,
        other=other.disclosure,
        owner=None if owner is None else owner.disclosure,
        assigned=None if assigned is None else assigned.disclosure,
        strategy=None if masked is None else masked.strategy,
        reason=None if denied is None else denied.reason,
        rule=_decided_by(labelled),
    )


def _decided_by(labelled: list[tuple[str, Outcome]]) -> str:
    """The default's rule, then each differing rule of own or assigned rows, labelled."""
    (_, default), *rest = labelled
    parts = [default.rule]
    parts += [f"{label}: {o.rule}" for label, o in rest if o.rule != default.rule]
    return "; ".join(parts)


# -- one data subject ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class DataSubject:
    """The user a subject explanation is about, with the facts the gateway would load."""

    id: int
    username: str
    facts: SubjectFacts


@dataclass(frozen=True, slots=True)
class SubjectRow:
    """The disclosure of one field on one data subject's rows, after the per-row gates.

    The rows are the subject's own for a user's roles (the subject is then the caller),
    rows neither owned nor assigned for any other principal. ``level`` is the level the
    subject's value is treated at, ``reason`` why it is withheld (a gate's reason, or the
    field's own), ``audited`` whether a FULL disclosure of it is recorded in the audit trail.
    """

    field: str
    level: Level
    disclosure: Disclosure
    reason: DenialReason | None
    audited: bool


def explain_subject(
    catalog: Catalog,
    policy: Policy,
    roles: Iterable[str],
    purpose: str | None,
    fields: Iterable[str],
    subject: DataSubject,
    *,
    do_not_track: bool = False,
    partner_region: str | None = None,
) -> list[SubjectRow]:
    """One row per field of ``fields``: its outcome on ``subject``'s rows, as served.

    ``do_not_track`` is the request's ``DNT``/``Sec-GPC`` signal (it concerns the caller's
    own data, so a user's roles only); ``partner_region`` the partner's region (default CN).
    """
    principal = synthetic_principal(policy, roles)
    if partner_region is not None and principal.kind is not PrincipalKind.PARTNER:
        raise BadUserInput("a partner region applies to partner roles only")
    if principal.kind is PrincipalKind.USER:
        principal = replace(principal, id=subject.id)  # a user reads only their own rows
    elif principal.kind is PrincipalKind.PARTNER:
        principal = replace(principal, partner_region=(partner_region or MAINLAND).upper())
    purpose = explained_purpose(policy, principal, purpose)
    gates = compile_gates(principal, purpose, policy.vocabulary, do_not_track=do_not_track)
    rows_of_subject = _OWNER_ROWS if principal.kind is PrincipalKind.USER else _ANY_ROWS
    facts = subject.facts
    explained = []
    for coordinate in fields:
        classification = catalog.classifications.get(coordinate)
        if classification is None:
            raise BadUserInput(f"unclassified field {coordinate}")
        outcome = decide_field(classification, principal, purpose, policy).outcome_for(
            rows_of_subject
        )
        reason = outcome.reason
        gated = classification.is_personal and not classification.relation
        if gated and outcome.disclosure is not Disclosure.DENIED and gates.active:
            reason = gates.reason(coordinate, subject.id, facts)
        disclosure = outcome.disclosure if reason is None else Disclosure.DENIED
        level = subject_level(classification.level, facts)
        explained.append(
            SubjectRow(
                field=coordinate,
                level=level,
                disclosure=disclosure,
                reason=reason,
                audited=disclosure is Disclosure.FULL
                and level is Level.SENSITIVE
                and not classification.relation,
            )
        )
    return explained
