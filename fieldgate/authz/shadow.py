"""Shadow mode: run a candidate policy beside the live one and count where they disagree.

Responses follow the live policy only. For each plan, the coordinates it decides are decided
again under the candidate (one extra compile, cached with the plan's key) and compared per row
condition; every operation then counts and logs the differences its plan carries.

A candidate set through ``setShadowPolicy`` is shared with every instance through Redis: its
rules are kept under :data:`SHADOW_KEY` and each instance's policy watcher picks them up.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from dataclasses import dataclass
from typing import Any

import structlog
from cachetools import LRUCache

from fieldgate.authz.classification import Catalog
from fieldgate.authz.decisions import Disclosure, FieldRule, Outcome, decide_field
from fieldgate.authz.plans import Plan
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_rules import RowCondition
from fieldgate.authz.principal import Principal

log = structlog.get_logger("fieldgate.shadow")

SHADOW_KEY = "fieldgate:shadow"  # the candidate every instance shadows; absent: each its own


@dataclass(frozen=True, slots=True, order=True)
class ShadowDifference:
    """One coordinate decided differently for one role set, purpose and row condition."""

    coordinate: str
    role: str
    purpose: str
    condition: str
    live: str
    candidate: str


def outcome_text(outcome: Outcome) -> str:
    """``FULL``, ``MASKED PHONE`` or ``DENIED NO_GRANT``: what the report shows."""
    if outcome.disclosure is Disclosure.MASKED and outcome.strategy is not None:
        return f"MASKED {outcome.strategy}"
    if outcome.disclosure is Disclosure.DENIED and outcome.reason is not None:
        return f"DENIED {outcome.reason}"
    return str(outcome.disclosure)


def _same(a: Outcome, b: Outcome) -> bool:
    return a.disclosure is b.disclosure and a.strategy == b.strategy


def differences(
    live: FieldRule, candidate: FieldRule, *, role: str, purpose: str
) -> list[ShadowDifference]:
    """Where ``candidate`` discloses otherwise than ``live``, row condition by row condition."""
    found: list[ShadowDifference] = []
    for condition in RowCondition:
        met = frozenset({condition})
        before, after = live.outcome_for(met), candidate.outcome_for(met)
        if not _same(before, after):
            found.append(
                ShadowDifference(
                    live.coordinate,
                    role,
                    purpose,
                    str(condition),
                    outcome_text(before),
                    outcome_text(after),
                )
            )
    return found


class ShadowPolicy:
    """A candidate policy, its per-plan differences and the counts of what requests hit."""

    def __init__(self, candidate: Policy, *, cache_size: int = 512) -> None:
        self.candidate = candidate
        self.cache_size = cache_size
        self.counts: Counter[ShadowDifference] = Counter()
        self.operations = 0
        self._by_plan: LRUCache[tuple[Any, ...], tuple[ShadowDifference, ...]] = LRUCache(
            maxsize=cache_size
        )

    def observe(
        self,
        plan_key: tuple[Any, ...],
        plan: Plan,
        principal: Principal,
        purpose: str | None,
        catalog: Catalog,
    ) -> tuple[ShadowDifference, ...]:
        """Count and log the differences of one operation run with ``plan``."""
        found = self._by_plan.get(plan_key)
        if found is None:
            found = self._compare(plan, principal, purpose, catalog)
            self._by_plan[plan_key] = found
        self.operations += 1
        for difference in found:
            self.counts[difference] += 1
            log.info(
                "shadow_difference",
                coordinate=difference.coordinate,
                role=difference.role,
                purpose=difference.purpose,
                condition=difference.condition,
                live=difference.live,
                candidate=difference.candidate,
                candidate_version=self.candidate.version,
            )
        return found

    def report(self) -> list[tuple[ShadowDifference, int]]:
        """Every difference seen so far with how many operations hit it, most frequent first."""
        return sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))

    def _compare(
        self, plan: Plan, principal: Principal, purpose: str | None, catalog: Catalog
    ) -> tuple[ShadowDifference, ...]:
        role = "+".join(sorted(principal.roles)) or str(principal.kind)
        shown = purpose or "none"
        found: list[ShadowDifference] = []
        for coordinate, live in sorted(plan.rules.items()):
            classification = catalog.classifications[coordinate]
            candidate = decide_field(classification, principal, purpose, self.candidate)
            found += differences(live, candidate, role=role, purpose=shown)
        return tuple(found)


@dataclass(frozen=True, slots=True)
class SharedCandidate:
    """The candidate as :data:`SHADOW_KEY` holds it: its rules and the version they had when
    the instance that set it checked them. Every setting has its own ``setting`` id, so that
    setting a candidate again restarts the counts everywhere."""

    version: str
    lines: tuple[str, ...]
    setting: str

    @classmethod
    def of(cls, candidate: Policy) -> SharedCandidate:
        return cls(candidate.version, tuple(candidate.rule_lines()), secrets.token_hex(8))

    def encode(self) -> str:
        return json.dumps({"version": self.version, "lines": self.lines, "setting": self.setting})

    @classmethod
    def decode(cls, raw: bytes) -> SharedCandidate:
        """Raises ``ValueError`` on anything but what :meth:`encode` writes."""
        value = json.loads(raw)
        lines = value.get("lines") if isinstance(value, dict) else None
        if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
            raise ValueError("not a shared shadow candidate")
        return cls(str(value.get("version", "")), tuple(lines), str(value.get("setting", "")))
