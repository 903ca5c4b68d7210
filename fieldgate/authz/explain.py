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
from datetime import date

from graphql import (
    DirectiveNode,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    Visitor,
    parse,
    validate,
    visit,
)
from graphql.language.visitor import REMOVE
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from fieldgate.authz.classification import Catalog, Classification, Level
from fieldgate.authz.consent import (
    MAINLAND,
    UNKNOWN_SUBJECT,
    SubjectFacts,
    compile_gates,
    load_subject_facts,
    subject_level,
)
from fieldgate.authz.decisions import (
    RIGHTS,
    DenialReason,
    Disclosure,
    FieldRule,
    Outcome,
    decide_field,
)
from fieldgate.authz.masking import MaskStrategy
from fieldgate.authz.plans import compile_plan
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_rules import ANONYMOUS_ROLE, RowCondition
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.errors import BadUserInput
from fieldgate.models.tables import users

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


def effective_purpose(policy: Policy, principal: Principal, purpose: str | None) -> str | None:
    """``purpose`` checked against the vocabulary; a user's default is RIGHTS, as served."""
    if purpose is None:
        return RIGHTS if principal.kind is PrincipalKind.USER else None
    if purpose not in policy.vocabulary.parents:
        raise BadUserInput(f"unknown purpose {purpose}")
    return purpose


def explain(
    catalog: Catalog,
    policy: Policy,
    roles: Iterable[str],
    purpose: str | None,
    coordinates: Iterable[str] | None = None,
) -> list[ExplainRow]:
    """One row per coordinate (every classified one when ``coordinates`` is None), sorted.

    ``purpose`` is the one the operation would run under; None means none was declared,
    except for a user, whose operations default to RIGHTS. Unknown roles, purposes and
    coordinates are ``BadUserInput``.
    """
    principal = synthetic_principal(policy, roles)
    purpose = effective_purpose(policy, principal, purpose)
    wanted = sorted(catalog.classifications if coordinates is None else set(coordinates))
    unknown = [c for c in wanted if c not in catalog.classifications]
    if unknown:
        raise BadUserInput(f"unclassified field {', '.join(unknown)}")
    rules = {
        c: decide_field(catalog.classifications[c], principal, purpose, policy) for c in wanted
    }
    return _rows(catalog, principal.kind, rules)


def explain_operation(
    schema: GraphQLSchema,
    catalog: Catalog,
    policy: Policy,
    roles: Iterable[str],
    purpose: str | None,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> list[ExplainRow]:
    """The rows of the coordinates ``operation`` selects, from the plan the gateway compiles."""
    principal = synthetic_principal(policy, roles)
    purpose = effective_purpose(policy, principal, purpose)

    def decide(coordinate: str) -> FieldRule:
        return decide_field(catalog.classifications[coordinate], principal, purpose, policy)

    plan = compile_plan(
        schema,
        catalog,
        operation,
        fragments,
        {},
        purpose=purpose,
        policy_version=policy.version,
        decide=decide,
    )
    return _rows(catalog, principal.kind, plan.rules)


def parse_operation(
    schema: GraphQLSchema, source: str
) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode]]:
    """The first operation of a GraphQL document and its fragments, validated.

    ``@skip`` and ``@include`` are dropped: every field the operation may select is
    explained, whatever its variables. Invalid documents are ``BadUserInput``.
    """
    try:
        document = parse(source)
    except GraphQLError as error:
        raise BadUserInput(f"the query does not parse: {error.message}") from None
    errors = validate(schema, document)
    if errors:
        raise BadUserInput("the query is invalid: " + "; ".join(e.message for e in errors))
    document = visit(document, _Unconditional())
    assert isinstance(document, DocumentNode)
    operation = next(
        (d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None
    )
    if operation is None:
        raise BadUserInput("the query holds no operation")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return operation, fragments


class _Unconditional(Visitor):
    """Removes ``@skip`` and ``@include`` so that conditional selections count as selected."""

    def enter_directive(self, node: DirectiveNode, *_: object) -> object:
        return REMOVE if node.name.value in ("skip", "include") else None


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


async def load_data_subject(connection: AsyncConnection, who: str, today: date) -> DataSubject:
    """The user named ``who`` (a username, or else a user id) and their facts on ``today``."""
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
    facts = await load_subject_facts(connection, [found.id], today)
    return DataSubject(found.id, found.username, facts.get(found.id, UNKNOWN_SUBJECT))


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
    purpose = effective_purpose(policy, principal, purpose)
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
