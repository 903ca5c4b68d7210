"""Per-row conditions: the one place where facts about a row join a compiled decision.

A plan's rules are static except for the conditions listed here, evaluated once per row
(not per value) and only for rows whose producer has a conditional rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from fieldgate.authz.policy_rules import RowCondition
from fieldgate.authz.principal import Principal

SUBJECT_KEY = "_subject"
ASSIGNEE_KEY = "_assignee"

RowFacts = Mapping[str, Any]
ConditionsOf = Callable[[RowFacts], frozenset[RowCondition]]

_ANY = frozenset({RowCondition.ANY})
_OWNER = frozenset({RowCondition.ANY, RowCondition.OWNER})
_ASSIGNED = frozenset({RowCondition.ANY, RowCondition.ASSIGNED})


def conditions_for(principal: Principal) -> ConditionsOf:
    """The function that tells which row conditions a row meets for this principal."""
    user_id, staff_id = principal.user_id, principal.staff_id
    if user_id is not None:
        return lambda row: _OWNER if row.get(SUBJECT_KEY) == user_id else _ANY
    if staff_id is not None:
        return lambda row: _ASSIGNED if row.get(ASSIGNEE_KEY) == staff_id else _ANY
    return lambda row: _ANY
