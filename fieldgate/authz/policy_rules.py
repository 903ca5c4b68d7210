"""The rules of ``policy.csv``: their vocabulary, how a text becomes lines, and their checks.

A line is ``p, role, object, purpose, act, condition, eft`` (field, row, purpose and
administration rules) or ``g, role, inherited role``. Every role inherits ``anonymous``,
which holds the denies for everyone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from fieldgate.authz.purposes import PurposeVocabulary

RULES_FILE = "policy.csv"

ANONYMOUS_ROLE = "anonymous"
PURPOSE_OBJECT = "@purpose"
POLICY_OBJECT = "@policy"
TOKENS_OBJECT = "@tokens"
DOCUMENTS_OBJECT = "@documents"
ADMIN_OBJECTS = frozenset({POLICY_OBJECT, TOKENS_OBJECT, DOCUMENTS_OBJECT})
MANAGE_ACT = "manage"
WILDCARD = "*"

_ROLE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_TYPE_RE = re.compile(r"[A-Z][A-Za-z0-9]*")
_COORDINATE_RE = re.compile(r"[A-Z][A-Za-z0-9]*\.(?:[A-Za-z][A-Za-z0-9]*|\*)")


class Grant(StrEnum):
    """What a policy line grants on a field; FULL beats MASKED."""

    FULL = "full"
    MASKED = "masked"


class RowCondition(StrEnum):
    """The rows a field grant holds on."""

    ANY = "any"
    OWNER = "owner"
    ASSIGNED = "assigned"


class RowScope(StrEnum):
    """Which rows of a type a role sees at all; the engine turns each into SQL."""

    ALL = "all"
    OWNER = "owner"
    ASSIGNED = "assigned"
    ROUTED = "routed"
    PAID_THROUGH = "paid_through"
    MERCHANT = "merchant"


@dataclass(frozen=True, slots=True)
class PolicyLine:
    """One rule of ``policy.csv``: its line number and values, the line type first."""

    number: int
    values: tuple[str, ...]


_FIELD_ACTS = frozenset(g.value for g in Grant)
_ACTS = _FIELD_ACTS | {"rows", "use", MANAGE_ACT}
_FIELD_CONDITIONS = frozenset(c.value for c in RowCondition) | {WILDCARD}
_SCOPES = frozenset(s.value for s in RowScope)


def parse_lines(text: str) -> list[PolicyLine]:
    """The rules of a ``policy.csv`` text, skipping blank and ``#`` lines as casbin does."""
    lines: list[PolicyLine] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped and not stripped.startswith("#"):
            values = tuple(v.strip() for v in stripped.split(","))
            lines.append(PolicyLine(number, values))
    return lines


def lint_lines(lines: Sequence[PolicyLine], vocabulary: PurposeVocabulary) -> list[str]:
    """Every problem of ``lines``: unknown line type, purpose, act, condition or scope,
    malformed role or coordinate, inheritance cycles, roles that do not inherit anonymous."""
    problems: list[str] = []
    for line in lines:
        problems += [
            f"{RULES_FILE} line {line.number}: {p}" for p in _line_problems(line, vocabulary)
        ]
    problems += _inheritance_problems(lines)
    return problems


def _line_problems(line: PolicyLine, vocabulary: PurposeVocabulary) -> list[str]:
    kind, *values = line.values
    if kind == "g":
        if len(values) != 2:
            return [f"a g line has 2 values (role, inherited role), found {len(values)}"]
        bad = [f"malformed role {v!r}" for v in values if not _ROLE_RE.fullmatch(v)]
        return bad or (["a role cannot inherit itself"] if values[0] == values[1] else [])
    if kind == "g2":
        return ["g2 lines are not written in the policy: the purpose hierarchy is purposes.toml"]
    if kind != "p":
        return [f"unknown line type {kind!r} (expected p or g)"]
    if len(values) != 6:
        found = len(values)
        return [
            f"a p line has 6 values (role, object, purpose, act, condition, eft), found {found}"
        ]
    sub, obj, purpose, act, cond, eft = values
    problems: list[str] = []
    if not _ROLE_RE.fullmatch(sub):
        problems.append(f"malformed role {sub!r}")
    if eft not in ("allow", "deny"):
        problems.append(f"unknown effect {eft!r} (expected allow or deny)")
    if purpose != WILDCARD and purpose not in vocabulary.parents:
        problems.append(f"unknown purpose {purpose!r}")
    if act in _FIELD_ACTS:
        if not _COORDINATE_RE.fullmatch(obj):
            problems.append(f"malformed coordinate {obj!r} (expected Type.field or Type.*)")
        if cond not in _FIELD_CONDITIONS:
            problems.append(f"unknown condition {cond!r} (expected any, owner, assigned or *)")
    elif act == "rows":
        if not _TYPE_RE.fullmatch(obj):
            problems.append(f"malformed type name {obj!r}")
        if cond not in _SCOPES:
            problems.append(f"unknown row scope {cond!r} (expected one of {sorted(_SCOPES)})")
        if purpose != WILDCARD:
            problems.append("a rows line has purpose *")
    elif act == MANAGE_ACT:
        if obj not in ADMIN_OBJECTS:
            problems.append(f"a manage line has object {sorted(ADMIN_OBJECTS)}, found {obj!r}")
        if purpose != WILDCARD or cond != WILDCARD:
            problems.append("a manage line has purpose * and condition *")
    elif act == "use":
        if obj != PURPOSE_OBJECT:
            problems.append(f"a use line has object {PURPOSE_OBJECT}, found {obj!r}")
        if purpose == WILDCARD:
            problems.append("a use line names one purpose, not *")
        if cond != WILDCARD:
            problems.append("a use line has condition *")
    else:
        problems.append(f"unknown act {act!r} (expected one of {sorted(_ACTS)})")
    return problems


def role_parents(lines: Iterable[PolicyLine]) -> dict[str, set[str]]:
    """Each role's directly inherited roles, from the ``g`` lines."""
    parents: dict[str, set[str]] = {}
    for line in lines:
        if line.values[0] == "g" and len(line.values) == 3:
            parents.setdefault(line.values[1], set()).add(line.values[2])
    return parents


def _inheritance_problems(lines: Sequence[PolicyLine]) -> list[str]:
    parents = role_parents(lines)
    problems: list[str] = []
    for role in sorted(named_roles(lines) - {ANONYMOUS_ROLE}):
        reached = ancestors(role, parents)
        if role in reached:
            problems.append(f"{RULES_FILE}: role {role!r} inherits itself through a cycle")
        elif ANONYMOUS_ROLE not in reached:
            # denies for everyone are given to anonymous: a role outside it would escape them
            problems.append(f"{RULES_FILE}: role {role!r} does not inherit {ANONYMOUS_ROLE}")
    return problems


def ancestors(role: str, parents: dict[str, set[str]]) -> set[str]:
    """Every role ``role`` inherits, directly or through others."""
    reached: set[str] = set()
    todo = list(parents.get(role, ()))
    while todo:
        current = todo.pop()
        if current not in reached:
            reached.add(current)
            todo.extend(parents.get(current, ()))
    return reached


def named_roles(lines: Iterable[PolicyLine]) -> frozenset[str]:
    """Every role named as the subject of a ``p`` line or in a ``g`` line."""
    roles: set[str] = set()
    for line in lines:
        kind, *values = line.values
        if kind == "p" and values:
            roles.add(values[0])
        elif kind == "g":
            roles.update(values[:2])
    return frozenset(roles)
