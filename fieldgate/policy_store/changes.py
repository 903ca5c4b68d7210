"""Changing the live policy: build the candidate, check it, store it, swap it in, audit it.

A change is checked like a policy at start (its own lint, then ``lint_policy`` against the
schema); a refused change raises :class:`~fieldgate.errors.PolicyError` with
``extensions.problems`` and changes nothing. An accepted one is written with its revision in
one transaction, put in force here at once, announced to the other instances and audited
(``policy_change`` with the old and the new version).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fieldgate.audit.events import Actor, AuditKind, event_of
from fieldgate.audit.writer import AuditWriter
from fieldgate.authz.policy import Policy
from fieldgate.authz.principal import Principal
from fieldgate.authz.shadow import ShadowPolicy
from fieldgate.errors import BadUserInput, Conflict
from fieldgate.policy_store.database import (
    DatabasePolicyStore,
    StaleRevision,
    rule_line,
    rule_values,
)
from fieldgate.policy_store.live import LivePolicy
from fieldgate.policy_store.watch import PolicySource, PolicyWatcher, check_policy

_EDIT_ATTEMPTS = 5  # compare-and-set rounds lost to other writers before giving up


@dataclass(frozen=True, slots=True)
class PolicyChange:
    """What an accepted change put in force."""

    version: str
    previous_version: str
    revision: int
    rules: int


def _normalised(line: str) -> str:
    values = rule_values(line)
    if len(values) < 2 or not all(values):
        raise BadUserInput("a rule is a policy.csv line: TYPE, value, value, ...")
    return rule_line(values)


class PolicyAdministration:
    """The admin operations of one instance (the mutations call these): changes swap in
    through ``watcher`` (which holds the live policy and the schema's catalog) and are
    audited through ``audit``."""

    def __init__(
        self,
        source: PolicySource,
        store: DatabasePolicyStore,
        watcher: PolicyWatcher,
        audit: AuditWriter | None,
    ) -> None:
        self.live: LivePolicy = watcher.live
        self.catalog = watcher.catalog
        self.audit = audit
        self.source = source
        self.store = store
        self.watcher = watcher

    async def add_rule(self, line: str, by: Principal) -> PolicyChange:
        """Add one rule (an existing identical rule is an error)."""
        rule = _normalised(line)

        def added(lines: list[str]) -> list[str]:
            if rule in lines:
                raise Conflict("the policy already has this rule")
            return [*lines, rule]

        return await self._edit(added, by, note="rule added")

    async def remove_rule(self, line: str, by: Principal) -> PolicyChange:
        """Remove one rule (a rule the policy does not have is an error)."""
        rule = _normalised(line)

        def removed(lines: list[str]) -> list[str]:
            if rule not in lines:
                raise Conflict("the policy has no such rule")
            return [kept for kept in lines if kept != rule]

        return await self._edit(removed, by, note="rule removed")

    async def replace(
        self,
        lines: Sequence[str],
        by: Principal,
        *,
        note: str = "policy replaced",
        expected_revision: int | None = None,
    ) -> PolicyChange:
        """Replace every rule; only with the policy in the database (and, with
        ``expected_revision``, only while that is the newest revision)."""
        if not self.source.in_database:
            raise Conflict("the policy is kept in files: edit policy.csv, then reload the policy")
        candidate = await asyncio.to_thread(self.candidate, lines)
        revision = await self.store.replace(
            candidate.rule_lines(),
            version=candidate.version,
            changed_by=by.identity,
            note=note,
            expected_revision=expected_revision,
        )
        return await self._put_in_force(candidate, revision, by)

    async def reload(self, by: Principal) -> PolicyChange:
        """Reload from the source (the folder, or rules written to the database by hand)."""
        candidate = await self.source.load()
        await asyncio.to_thread(check_policy, self.catalog, candidate)
        revision = await self.store.record_revision(
            version=candidate.version, changed_by=by.identity, note="reloaded"
        )
        return await self._put_in_force(candidate, revision, by)

    def candidate(self, lines: Sequence[str]) -> Policy:
        """The checked policy of ``lines`` (raises ``PolicyError`` with its problems)."""
        rules = [line for line in lines if line.strip() and not line.strip().startswith("#")]
        candidate = self.source.candidate([_normalised(line) for line in rules])
        check_policy(self.catalog, candidate)
        return candidate

    def set_shadow(self, lines: Sequence[str]) -> ShadowPolicy:
        """Compare ``lines`` with the live policy from now on (this instance only)."""
        shadow = ShadowPolicy(self.candidate(lines))
        self.live.shadow = shadow
        return shadow

    def clear_shadow(self) -> bool:
        """Stop shadowing; False when no candidate was set."""
        had = self.live.shadow is not None
        self.live.shadow = None
        return had

    async def _edit(
        self, edit: Callable[[list[str]], list[str]], by: Principal, *, note: str
    ) -> PolicyChange:
        """Apply ``edit`` to the newest rules, compare-and-set: a change another instance
        wrote meanwhile is read again and kept, never overwritten."""
        for _ in range(_EDIT_ATTEMPTS):
            if not self.source.in_database:
                lines, revision = self.live.policy.rule_lines(), None
            else:
                lines, revision = await self.store.read_revision()
            try:
                return await self.replace(edit(lines), by, note=note, expected_revision=revision)
            except StaleRevision:
                continue
        raise Conflict("the policy is changing too often right now; try again")

    async def _put_in_force(self, policy: Policy, revision: int, by: Principal) -> PolicyChange:
        old = self.watcher.swap(policy, revision)
        await self.watcher.notify(revision)
        audit = self.audit
        if audit is not None:
            audit.submit(
                [
                    event_of(
                        AuditKind.POLICY_CHANGE,
                        Actor.of(by),
                        "CHANGED",
                        None,
                        policy_version=policy.version,
                        detail={"old": old, "new": policy.version, "revision": revision},
                    )
                ]
            )
        return PolicyChange(policy.version, old, revision, len(policy.rule_lines()))
