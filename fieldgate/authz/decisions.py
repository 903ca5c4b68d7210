"""The disclosure of one field coordinate for one principal and purpose.

A decision is the most restrictive of: the field's classification (purposes it allows and
prohibits), the casbin grants of the principal's roles for the coordinate and purpose, the
token's scopes, and the row (its data subject, its assignee). It is computed once per plan,
never per value; what depends on the row is kept as a short list of conditional outcomes
that ``FieldRule.outcome_for`` picks from.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fieldgate.authz.classification import Classification, Level
from fieldgate.authz.deidentification import STATISTICAL_MASKS
from fieldgate.authz.masking import MaskStrategy
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_rules import Grant, RowCondition
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.errors import PurposeNotAllowed

RIGHTS = "RIGHTS"


class Disclosure(StrEnum):
    FULL = "FULL"
    MASKED = "MASKED"
    DENIED = "DENIED"


class DenialReason(StrEnum):
    """Why a field was denied; lands in ``extensions.reason`` of the error."""

    PURPOSE_REQUIRED = "PURPOSE_REQUIRED"
    PURPOSE_PROHIBITED = "PURPOSE_PROHIBITED"
    PURPOSE_NOT_ALLOWED_FOR_FIELD = "PURPOSE_NOT_ALLOWED_FOR_FIELD"
    NO_GRANT = "NO_GRANT"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"
    NO_MASK = "NO_MASK"
    CONSENT_REQUIRED = "CONSENT_REQUIRED"
    GUARDIAN_CONSENT_REQUIRED = "GUARDIAN_CONSENT_REQUIRED"
    DO_NOT_TRACK = "DO_NOT_TRACK"
    CROSS_BORDER_CONSENT_REQUIRED = "CROSS_BORDER_CONSENT_REQUIRED"
    K_ANONYMITY = "K_ANONYMITY"


_RANK = {Disclosure.DENIED: 0, Disclosure.MASKED: 1, Disclosure.FULL: 2}


@dataclass(frozen=True, slots=True)
class Outcome:
    """FULL, MASKED with a strategy, or DENIED with a reason; ``rule`` explains it."""

    disclosure: Disclosure
    strategy: MaskStrategy | None = None
    reason: DenialReason | None = None
    rule: str = ""

    @property
    def code(self) -> str:
        if self.reason is DenialReason.PURPOSE_REQUIRED:
            return "PURPOSE_REQUIRED"
        return "FORBIDDEN_FIELD"

    def better_than(self, other: Outcome) -> bool:
        return _RANK[self.disclosure] > _RANK[other.disclosure]


@dataclass(frozen=True, slots=True)
class FieldRule:
    """The compiled decision for one coordinate: a default and row-conditional upgrades.

    ``conditional`` holds only outcomes better than ``default``, best first; a row that meets
    one of their conditions gets that outcome. Static rules (no conditions) cost nothing per
    row.
    """

    coordinate: str
    default: Outcome
    conditional: tuple[tuple[RowCondition, Outcome], ...] = ()

    @property
    def is_static(self) -> bool:
        return not self.conditional

    def outcome_for(self, conditions: frozenset[RowCondition]) -> Outcome:
        """The outcome for a row meeting ``conditions`` (see ``authz.conditions``)."""
        for condition, outcome in self.conditional:
            if condition in conditions:
                return outcome
        return self.default

    def possible(self) -> tuple[Outcome, ...]:
        return (self.default, *(outcome for _, outcome in self.conditional))


def _denied(reason: DenialReason, rule: str) -> Outcome:
    return Outcome(Disclosure.DENIED, reason=reason, rule=rule)


def _in_scope(scopes: frozenset[str], coordinate: str) -> bool:
    """Token scopes narrow the policy: ``Order.deliveryAddress``, ``Order:*`` or ``Order.*``."""
    if not scopes:
        return True
    type_name = coordinate.split(".", 1)[0]
    return coordinate in scopes or f"{type_name}:*" in scopes or f"{type_name}.*" in scopes


def decide_field(
    classification: Classification,
    principal: Principal,
    purpose: str | None,
    policy: Policy,
) -> FieldRule:
    """Compile the rule for one coordinate (called once per plan, never per value)."""
    coordinate = classification.coordinate
    if classification.level is Level.PUBLIC:
        return FieldRule(coordinate, Outcome(Disclosure.FULL, rule="classification PUBLIC"))
    vocabulary = policy.vocabulary
    if classification.is_personal and purpose is None:
        return FieldRule(coordinate, _denied(DenialReason.PURPOSE_REQUIRED, "no purpose declared"))
    if purpose is not None:
        prohibited = classification.prohibits | vocabulary.prohibitions.get(coordinate, frozenset())
        hit = next((p for p in vocabulary.lineage(purpose) if p in prohibited), None)
        if hit is not None:
            return FieldRule(
                coordinate,
                _denied(DenialReason.PURPOSE_PROHIBITED, f"{coordinate} prohibits {hit}"),
            )
    if not _in_scope(principal.scopes, coordinate):
        return FieldRule(
            coordinate, _denied(DenialReason.OUT_OF_SCOPE, "outside the token's scopes")
        )

    purpose_allowed = (
        not classification.purposes
        or purpose is None
        or vocabulary.covers(classification.purposes, purpose)
    )
    # The data subject's right of access: every personal field allows RIGHTS on own rows.
    rights_on_own_rows = purpose == RIGHTS and classification.is_personal

    mask = classification.mask
    if mask in STATISTICAL_MASKS and (
        purpose is None or vocabulary.deidentification.covers(vocabulary.lineage(purpose)) is None
    ):
        mask = None  # a generalisation made for statistics is no masked form for other uses
    grants = {g.condition: g for g in policy.field_grants(principal.roles, coordinate, purpose)}
    outcomes: dict[RowCondition, Outcome] = {}
    for condition in RowCondition:
        allowed_here = purpose_allowed or (rights_on_own_rows and condition is RowCondition.OWNER)
        grant = grants.get(condition)
        if not allowed_here:
            outcome = _denied(
                DenialReason.PURPOSE_NOT_ALLOWED_FOR_FIELD,
                f"{coordinate} does not serve {purpose}",
            )
        elif grant is None:
            outcome = _denied(DenialReason.NO_GRANT, "no rule grants it")
        elif grant.grant is Grant.FULL:
            outcome = Outcome(Disclosure.FULL, rule=", ".join(grant.rule))
        elif mask is None:
            outcome = _denied(DenialReason.NO_MASK, f"masked grant, {coordinate} has no mask")
        else:
            outcome = Outcome(Disclosure.MASKED, strategy=mask, rule=", ".join(grant.rule))
        outcomes[condition] = outcome

    default = outcomes[RowCondition.ANY]
    upgrades = sorted(
        (
            (condition, outcome)
            for condition, outcome in outcomes.items()
            if condition is not RowCondition.ANY and outcome.better_than(default)
        ),
        key=lambda item: -_RANK[item[1].disclosure],
    )
    return FieldRule(coordinate, default, tuple(upgrades))


def effective_purpose(
    policy: Policy, principal: Principal, declared: str | None, *, check_declarable: bool = True
) -> str | None:
    """The purpose an operation of ``principal`` runs under: ``declared``, or when none is
    declared a user's default, RIGHTS (the data subject's right of access).

    An unknown purpose is ``PurposeNotAllowed``, and so is one the token or the roles may
    not declare unless ``check_declarable`` is off (``policy explain`` shows what would be
    decided and only notes that the gateway refuses such operations).
    """
    if declared is None:
        return RIGHTS if principal.kind is PrincipalKind.USER else None
    vocabulary = policy.vocabulary
    if declared not in vocabulary.parents:
        raise PurposeNotAllowed(f"unknown purpose {declared}", purpose=declared)
    if not check_declarable:
        return declared
    token_allows = not principal.purposes or vocabulary.covers(principal.purposes, declared)
    if not token_allows or not policy.may_declare(principal.roles, declared):
        raise PurposeNotAllowed(
            f"purpose {declared} is not allowed for this principal", purpose=declared
        )
    return declared
