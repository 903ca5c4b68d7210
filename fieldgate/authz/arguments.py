"""Arguments are reads: an argument that filters, searches or looks rows up by a field's
value tells its caller something about that field, so it is decided like a read of it.

An argument is allowed only where its field would be disclosed FULL on every row the
principal may see: by default, or by a row condition that every visible row meets (a user
who sees only their own rows, a staff member who sees only the tickets assigned to them).
A type's ``id`` that this principal receives as a pseudonym is allowed as a lookup by
pseudonym only. Anything else refuses the whole operation before it runs. Decided once per
plan, over coordinates and row scopes: nothing here knows GraphQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from fieldgate.authz.decisions import DenialReason, Disclosure, FieldRule, Outcome
from fieldgate.authz.masking import MaskStrategy
from fieldgate.authz.policy_rules import RowCondition, RowScope

PathKey = tuple[str, ...]


class ArgumentUse(StrEnum):
    """How an allowed argument's value is taken."""

    VALUE = "VALUE"  # as given: the field is FULL on every visible row
    PSEUDONYM = "PSEUDONYM"  # a pseudonym of the row's id, as this principal receives it


@dataclass(frozen=True, slots=True)
class ArgumentRead:
    """One argument of the document that reads a field: where, which, and what it reads."""

    path: PathKey  # the response path of the field the argument is given to
    field: str  # the schema coordinate of that field (``Query.orders``)
    argument: str  # the argument's name (``status``)
    coordinate: str  # the field it reads (``Order.status``)
    is_id: bool = False  # the coordinate is its type's ``id``

    @property
    def name(self) -> str:
        """``Query.orders(status:)``: how errors and events name the argument."""
        return f"{self.field}({self.argument}:)"


@dataclass(frozen=True, slots=True)
class ArgumentDecision:
    """The decision on one argument: a use when allowed, the field's outcome otherwise."""

    read: ArgumentRead
    use: ArgumentUse | None
    outcome: Outcome

    @property
    def allowed(self) -> bool:
        return self.use is not None

    @property
    def reason(self) -> DenialReason | None:
        """The field's denial reason when it is denied outright (none when only masked)."""
        return self.outcome.reason


RowScopes = Callable[[str], frozenset[RowScope]]

# a row scope that every visible row meets as the row condition of the same name
_SCOPE_CONDITION = {
    RowScope.OWNER: RowCondition.OWNER,
    RowScope.ASSIGNED: RowCondition.ASSIGNED,
}


def outcome_on_visible_rows(rule: FieldRule, scopes: frozenset[RowScope]) -> Outcome:
    """The outcome that holds on every row a principal with ``scopes`` sees: a conditional
    upgrade counts only when the scope guarantees its condition on every row."""
    if len(scopes) == 1:
        (scope,) = scopes
        condition = _SCOPE_CONDITION.get(scope)
        if condition is not None:
            return rule.outcome_for(frozenset({RowCondition.ANY, condition}))
    return rule.default


def decide_argument(
    read: ArgumentRead, rule: FieldRule, scopes: frozenset[RowScope]
) -> ArgumentDecision:
    """Decide one argument from its field's compiled rule and the type's row scopes."""
    outcome = outcome_on_visible_rows(rule, scopes)
    if outcome.disclosure is Disclosure.FULL:
        return ArgumentDecision(read, ArgumentUse.VALUE, outcome)
    if (
        read.is_id
        and outcome.disclosure is Disclosure.MASKED
        and outcome.strategy is MaskStrategy.PSEUDONYM
    ):
        return ArgumentDecision(read, ArgumentUse.PSEUDONYM, outcome)
    return ArgumentDecision(read, None, outcome)
