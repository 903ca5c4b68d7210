"""The casbin policy: which fields a role may read, which rows it sees, which purposes it declares.

A :class:`Policy` holds one casbin enforcer per role (``policy_loading`` builds them once
per load) and answers typed questions. Every answer is memoised: the policy is immutable,
so casbin runs at most once per question.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import casbin
from casbin.effect import AllowOverrideEffector
from casbin.persist import Adapter

from fieldgate.authz.policy_rules import (
    PURPOSE_OBJECT,
    WILDCARD,
    Grant,
    PolicyLine,
    RowCondition,
    RowScope,
    lint_lines,
)
from fieldgate.authz.purposes import PurposeVocabulary

_NO_PURPOSE = ""  # matches only lines whose purpose is `*`: no purpose is ever named ""
# One lock for every casbin call of the process (building enforcers and enforcing): casbin
# parses its matchers with ``ast.parse``, which is not safe from two threads at once in
# CPython (gh-106905: "AST constructor recursion depth mismatch"), and its role tables are
# not safe to share between threads. Candidate policies are built in worker threads.
_CASBIN = threading.RLock()


@dataclass(frozen=True, slots=True)
class ConditionalGrant:
    """The best grant on a field on rows of one condition, and the casbin line that gave it."""

    condition: RowCondition
    grant: Grant
    rule: tuple[str, ...]


class _LineAdapter(Adapter):  # type: ignore[misc]  # casbin is untyped
    """Feeds parsed rules to casbin; the enforcer never reads files through it."""

    def __init__(self, rules: Sequence[tuple[str, ...]]) -> None:
        self._rules = rules

    def load_policy(self, model: Any) -> None:
        for ptype, *values in self._rules:
            model.add_policy(ptype[0], ptype, list(values))


class RoleEnforcer:
    """The casbin enforcers of one role, holding only its lines and those it inherits.

    With "allow and no deny" casbin's ``enforce_ex`` names a line only for a deny, so a second
    enforcer over the same lines, "first allow wins", names the allow line; the first then
    checks that no deny overrides it. Keeping each role to its own lines makes a scan several
    times shorter than one over the whole policy.
    """

    def __init__(self, model_text: str, rules: Sequence[tuple[str, ...]]) -> None:
        with _CASBIN:
            self._decider = casbin.Enforcer(casbin_model(model_text), _LineAdapter(rules))
            self._explainer = casbin.Enforcer(casbin_model(model_text), _LineAdapter(rules))
            self._explainer.set_effector(AllowOverrideEffector())
        # (act, condition) of the allow lines: a request none of them can match is not asked
        self._askable = {(r[4], r[5]) for r in rules if r[0] == "p" and r[-1] == "allow"}

    def allows(self, request: tuple[str, ...]) -> tuple[tuple[str, ...] | None, int]:
        """The allow line that decides ``request`` (None when denied) and the enforce calls."""
        act, cond = request[3], request[4]
        if (act, cond) not in self._askable and (act, WILDCARD) not in self._askable:
            return None, 0
        allowed, rule = self._explainer.enforce_ex(*request)
        if not allowed:
            return None, 1
        if not self._decider.enforce_ex(*request)[0]:
            return None, 2
        return tuple(str(v) for v in rule), 2


class Policy:
    """Typed, memoised questions to casbin; built by ``policy_loading.load_policy``."""

    def __init__(
        self,
        enforcers: dict[str, RoleEnforcer],
        lines: Sequence[PolicyLine],
        vocabulary: PurposeVocabulary,
        version: str,
    ) -> None:
        self.version = version
        self.vocabulary = vocabulary
        self.enforce_calls = 0
        self._enforcers = enforcers
        self._lines = tuple(lines)
        self._roles = frozenset(enforcers)
        self._field_memo: dict[tuple[str, str, str | None], dict[RowCondition, ConditionalGrant]]
        self._field_memo = {}
        self._rows_memo: dict[tuple[str, str], frozenset[RowScope]] = {}
        self._use_memo: dict[tuple[str, str], bool] = {}
        self._may_memo: dict[tuple[str, str, str], bool] = {}
        self.model_text = ""  # set by the builders: a candidate policy reuses the live model

    def field_grants(
        self, roles: Iterable[str], coordinate: str, purpose: str | None
    ) -> tuple[ConditionalGrant, ...]:
        """For each row condition, the best grant any of ``roles`` has on ``coordinate``.

        Each role's own denies (inherited ones included) apply before the roles are combined.
        ``purpose`` None means no purpose was declared: only lines with purpose ``*`` match.
        Conditions without a grant are left out; an unknown role or purpose gets nothing.
        """
        if purpose is not None and purpose not in self.vocabulary.parents:
            return ()
        best: dict[RowCondition, ConditionalGrant] = {}
        for role in self._known(roles):
            key = (role, coordinate, purpose)
            if key not in self._field_memo:
                self._field_memo[key] = self._role_field_grants(role, coordinate, purpose)
            for condition, found in self._field_memo[key].items():
                current = best.get(condition)
                if current is None or (current.grant, found.grant) == (Grant.MASKED, Grant.FULL):
                    best[condition] = found
        return tuple(best[c] for c in RowCondition if c in best)

    def row_scopes(self, roles: Iterable[str], type_name: str) -> frozenset[RowScope]:
        """The row scopes any of ``roles`` has on ``type_name``; empty means no rows."""
        scopes: set[RowScope] = set()
        for role in self._known(roles):
            key = (role, type_name)
            if key not in self._rows_memo:
                self._rows_memo[key] = frozenset(
                    scope
                    for scope in RowScope
                    if self._allows(role, type_name, _NO_PURPOSE, "rows", scope.value) is not None
                )
            scopes |= self._rows_memo[key]
        return frozenset(scopes)

    def may_declare(self, roles: Iterable[str], purpose: str) -> bool:
        """True when one of ``roles`` may declare ``purpose`` (a parent covers its children)."""
        if purpose not in self.vocabulary.parents:
            return False
        for role in self._known(roles):
            key = (role, purpose)
            if key not in self._use_memo:
                found = self._allows(role, PURPOSE_OBJECT, purpose, "use", WILDCARD)
                self._use_memo[key] = found is not None
            if self._use_memo[key]:
                return True
        return False

    def may(self, roles: Iterable[str], obj: str, act: str) -> bool:
        """True when one of ``roles`` may ``act`` on an administrative ``obj`` (``@policy``)."""
        for role in self._known(roles):
            key = (role, obj, act)
            if key not in self._may_memo:
                found = self._allows(role, obj, _NO_PURPOSE, act, WILDCARD)
                self._may_memo[key] = found is not None
            if self._may_memo[key]:
                return True
        return False

    @property
    def lines(self) -> tuple[PolicyLine, ...]:
        """The parsed rules, each with its line number."""
        return self._lines

    def rule_lines(self) -> list[str]:
        """The rules as ``policy.csv`` lines, without comments (what the database keeps)."""
        return [", ".join(line.values) for line in self._lines]

    def declarable_purposes(self, roles: Iterable[str]) -> frozenset[str]:
        """Every purpose of the vocabulary that one of ``roles`` may declare."""
        known = tuple(self._known(roles))
        return frozenset(p for p in self.vocabulary.parents if self.may_declare(known, p))

    def roles(self) -> frozenset[str]:
        """Every role named in the policy, as a subject or in an inheritance line."""
        return self._roles

    def lint(self) -> list[str]:
        """Problems of the rules, each naming its line; ``[]`` when the policy is clean."""
        return lint_lines(self._lines, self.vocabulary)

    def _known(self, roles: Iterable[str]) -> list[str]:
        # an unknown role has no lines; skipping it also keeps casbin's role table from growing
        return sorted({r for r in roles if r in self._roles})

    def _role_field_grants(
        self, role: str, coordinate: str, purpose: str | None
    ) -> dict[RowCondition, ConditionalGrant]:
        asked = _NO_PURPOSE if purpose is None else purpose
        grants: dict[RowCondition, ConditionalGrant] = {}
        for condition in RowCondition:
            for grant in (Grant.FULL, Grant.MASKED):
                rule = self._allows(role, coordinate, asked, grant.value, condition.value)
                if rule is not None:
                    grants[condition] = ConditionalGrant(condition, grant, rule)
                    break
        return grants

    def _allows(
        self, role: str, obj: str, purpose: str, act: str, cond: str
    ) -> tuple[str, ...] | None:
        with _CASBIN:
            rule, calls = self._enforcers[role].allows((role, obj, purpose, act, cond))
            self.enforce_calls += calls
        return rule


def casbin_model(text: str) -> Any:
    """A casbin model parsed from the text of ``model.conf``."""
    model = casbin.model.Model()
    model.load_model_from_text(text)
    return model
