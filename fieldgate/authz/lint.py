"""Checks that a policy and the schema's classification fit together (``policy lint``)."""

from __future__ import annotations

from fieldgate.authz.classification import Catalog, Level
from fieldgate.authz.decisions import Disclosure, decide_field
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_rules import (
    MANAGE_ACT,
    POLICY_OBJECT,
    RULES_FILE,
    coordinate_problems,
)
from fieldgate.authz.principal import Principal, PrincipalKind


def lint_policy(catalog: Catalog, policy: Policy) -> list[str]:
    """Every problem found; an empty list means the server may start with this policy.

    Besides the policy's own checks (unknown purposes, acts, conditions), a non-null field
    must never be DENIED to a role that can see rows of its type, under any purpose the
    role may declare or none: a denial there would null the whole parent. A policy without
    rules, or where no role may ``manage`` ``@policy`` (no administrator could change it
    again), is refused, and every type and field a rule names must be in ``catalog``.
    """
    problems = list(policy.lint())
    if not policy.rule_lines():
        problems.append(f"{RULES_FILE}: the policy has no rule")
    elif not any(policy.may([role], POLICY_OBJECT, MANAGE_ACT) for role in policy.roles()):
        problems.append(
            f"{RULES_FILE}: no role may {MANAGE_ACT} {POLICY_OBJECT}: nobody could change it again"
        )
    problems += coordinate_problems(policy.lines, catalog.classifications)
    for coordinate, classification in sorted(catalog.classifications.items()):
        if classification.nullable or classification.level is Level.PUBLIC:
            continue
        type_name = coordinate.split(".", 1)[0]
        for role in sorted(policy.roles()):
            if not policy.row_scopes([role], type_name):
                continue
            principal = Principal(kind=PrincipalKind.STAFF, id=0, roles=frozenset({role}))
            purposes: list[str | None] = [None, *sorted(policy.declarable_purposes([role]))]
            for purpose in purposes:
                rule = decide_field(classification, principal, purpose, policy)
                if any(o.disclosure is Disclosure.DENIED for o in rule.possible()):
                    problems.append(
                        f"{coordinate} is non-null but role {role} can be denied it"
                        f" (purpose {purpose or 'none'})"
                    )
                    break
    return problems
