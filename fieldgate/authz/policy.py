"""The casbin policy: which fields a role may read, which rows it sees, which purposes it declares.

The model (``model.conf``) and the rules (``policy.csv``) are data in the policy folder; the
purpose hierarchy of ``purposes.toml`` becomes casbin's ``g2`` relation. The enforcers are built
once per load, one per role, and every answer is memoised: the policy is immutable, so casbin
runs at most once per question.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import casbin
from casbin.effect import AllowOverrideEffector
from casbin.persist import Adapter

from fieldgate.authz.purposes import PurposeVocabulary
from fieldgate.errors import PolicyError

MODEL_FILE = "model.conf"
RULES_FILE = "policy.csv"
PURPOSES_FILE = "purposes.toml"

ANONYMOUS_ROLE = "anonymous"
PURPOSE_OBJECT = "@purpose"
POLICY_OBJECT = "@policy"
TOKENS_OBJECT = "@tokens"
DOCUMENTS_OBJECT = "@documents"
ADMIN_OBJECTS = frozenset({POLICY_OBJECT, TOKENS_OBJECT, DOCUMENTS_OBJECT})
MANAGE_ACT = "manage"
WILDCARD = "*"
_NO_PURPOSE = ""  # matches only lines whose purpose is `*`: no purpose is ever named ""

_ROLE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_TYPE_RE = re.compile(r"[A-Z][A-Za-z0-9]*")
_COORDINATE_RE = re.compile(r"[A-Z][A-Za-z0-9]*\.(?:[A-Za-z][A-Za-z0-9]*|\*)")
_REQUEST_TOKENS = ["r_sub", "r_obj", "r_purpose", "r_act", "r_cond"]
_POLICY_TOKENS = ["p_sub", "p_obj", "p_purpose", "p_act", "p_cond", "p_eft"]
_DENY_WINS = "some(where (p_eft == allow)) && !some(where (p_eft == deny))"  # as casbin stores it
_CASBIN_LOGGERS = ("casbin", "casbin.policy", "casbin.enforcer", "casbin.role")


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
class ConditionalGrant:
    """The best grant on a field on rows of one condition, and the casbin line that gave it."""

    condition: RowCondition
    grant: Grant
    rule: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PolicyLine:
    """One rule of ``policy.csv``: its line number and values, the line type first."""

    number: int
    values: tuple[str, ...]


_FIELD_ACTS = frozenset(g.value for g in Grant)
_ACTS = _FIELD_ACTS | {"rows", "use", MANAGE_ACT}
_FIELD_CONDITIONS = frozenset(c.value for c in RowCondition) | {WILDCARD}
_SCOPES = frozenset(s.value for s in RowScope)


class _LineAdapter(Adapter):  # type: ignore[misc]  # casbin is untyped
    """Feeds parsed rules to casbin; the enforcer never reads files through it."""

    def __init__(self, rules: Sequence[tuple[str, ...]]) -> None:
        self._rules = rules

    def load_policy(self, model: Any) -> None:
        for ptype, *values in self._rules:
            model.add_policy(ptype[0], ptype, list(values))


class _RoleEnforcer:
    """The casbin enforcers of one role, holding only its lines and those it inherits.

    With "allow and no deny" casbin's ``enforce_ex`` names a line only for a deny, so a second
    enforcer over the same lines, "first allow wins", names the allow line; the first then
    checks that no deny overrides it. Keeping each role to its own lines makes a scan several
    times shorter than one over the whole policy.
    """

    def __init__(self, model_text: str, rules: Sequence[tuple[str, ...]]) -> None:
        self._decider = casbin.Enforcer(_model(model_text), _LineAdapter(rules))
        self._explainer = casbin.Enforcer(_model(model_text), _LineAdapter(rules))
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
    """Typed, memoised questions to casbin; build it with :func:`load_policy`."""

    def __init__(
        self,
        enforcers: dict[str, _RoleEnforcer],
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
        self._lock = threading.Lock()
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
        with self._lock:  # casbin's role tables are not safe to share between threads
            rule, calls = self._enforcers[role].allows((role, obj, purpose, act, cond))
            self.enforce_calls += calls
        return rule


def load_policy(policy_dir: Path, vocabulary: PurposeVocabulary) -> Policy:
    """Read ``model.conf`` and ``policy.csv`` from ``policy_dir`` and build the enforcers once.

    The purpose hierarchy of ``vocabulary`` is added as ``g2``. Raises
    :class:`~fieldgate.errors.PolicyError` naming the file or line on any problem.
    """
    contents = {name: _read(policy_dir / name) for name in (MODEL_FILE, RULES_FILE, PURPOSES_FILE)}
    lines = parse_lines(_text(RULES_FILE, contents[RULES_FILE]))
    model_text = _text(MODEL_FILE, contents[MODEL_FILE])  # the text hashed is the text run
    return _build(model_text, lines, vocabulary, _version(contents))


def policy_from_lines(
    model_text: str, lines: Sequence[str], vocabulary: PurposeVocabulary, purposes_text: str = ""
) -> Policy:
    """Build a policy from rule lines (the database's, or a candidate's) and a model text.

    Lines are numbered from 1 in the order given; blank and ``#`` lines are skipped. The
    version hashes the model, the lines and ``purposes_text`` (the ``purposes.toml`` text).
    Raises :class:`~fieldgate.errors.PolicyError` as :func:`load_policy` does.
    """
    rules_text = "\n".join(line.strip() for line in lines)
    contents = {
        MODEL_FILE: model_text.encode(),
        RULES_FILE: rules_text.encode(),
        PURPOSES_FILE: purposes_text.encode(),
    }
    return _build(model_text, parse_lines(rules_text), vocabulary, _version(contents))


def _build(
    model_text: str, lines: list[PolicyLine], vocabulary: PurposeVocabulary, version: str
) -> Policy:
    problems = lint_lines(lines, vocabulary)
    if problems:
        raise PolicyError("invalid policy: " + "; ".join(problems), problems=problems)
    _silence_casbin()
    _check_model(model_text)
    hierarchy = [("g2", child, parent) for child, parent in vocabulary.parents.items() if parent]
    inherits = _inheritance(lines)
    enforcers: dict[str, _RoleEnforcer] = {}
    for role in sorted(_named_roles(lines)):
        subjects = {role} | _ancestors(role, inherits)
        rules = [line.values for line in lines if line.values[1] in subjects] + hierarchy
        try:
            enforcers[role] = _RoleEnforcer(model_text, rules)
        except Exception as exc:  # casbin raises bare RuntimeError, KeyError, ...
            raise PolicyError(f"{MODEL_FILE} is invalid: {type(exc).__name__}") from None
    policy = Policy(enforcers, lines, vocabulary, version)
    policy.model_text = model_text
    return policy


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


def _inheritance(lines: Iterable[PolicyLine]) -> dict[str, set[str]]:
    parents: dict[str, set[str]] = {}
    for line in lines:
        if line.values[0] == "g" and len(line.values) == 3:
            parents.setdefault(line.values[1], set()).add(line.values[2])
    return parents


def _inheritance_problems(lines: Sequence[PolicyLine]) -> list[str]:
    parents = _inheritance(lines)
    problems: list[str] = []
    for role in sorted(_named_roles(lines) - {ANONYMOUS_ROLE}):
        reached = _ancestors(role, parents)
        if role in reached:
            problems.append(f"{RULES_FILE}: role {role!r} inherits itself through a cycle")
        elif ANONYMOUS_ROLE not in reached:
            # denies for everyone are given to anonymous: a role outside it would escape them
            problems.append(f"{RULES_FILE}: role {role!r} does not inherit {ANONYMOUS_ROLE}")
    return problems


def _ancestors(role: str, parents: dict[str, set[str]]) -> set[str]:
    reached: set[str] = set()
    todo = list(parents.get(role, ()))
    while todo:
        current = todo.pop()
        if current not in reached:
            reached.add(current)
            todo.extend(parents.get(current, ()))
    return reached


def _named_roles(lines: Iterable[PolicyLine]) -> frozenset[str]:
    roles: set[str] = set()
    for line in lines:
        kind, *values = line.values
        if kind == "p" and values:
            roles.add(values[0])
        elif kind == "g":
            roles.update(values[:2])
    return frozenset(roles)


def _check_model(text: str) -> None:
    try:
        model = _model(text)
        shape_ok = (
            model["r"]["r"].tokens == _REQUEST_TOKENS
            and model["p"]["p"].tokens == _POLICY_TOKENS
            and {"g", "g2"} <= set(model["g"])
            and model["e"]["e"].value == _DENY_WINS
            and "m" in model["m"]
        )
    except Exception:  # casbin raises bare RuntimeError, KeyError, ... on a malformed model
        shape_ok = False
    if not shape_ok:
        raise PolicyError(
            f"{MODEL_FILE} must define r = sub, obj, purpose, act, cond; "
            "p = sub, obj, purpose, act, cond, eft; the roles g and g2; a matcher m; and the "
            "effect some(where (p.eft == allow)) && !some(where (p.eft == deny))"
        )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise PolicyError(f"cannot read {path.name} in the policy folder") from None


def _text(name: str, content: bytes) -> str:
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyError(f"{name} is not UTF-8") from None


def _model(text: str) -> Any:
    model = casbin.model.Model()
    model.load_model_from_text(text)
    return model


def _version(contents: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for name in (MODEL_FILE, RULES_FILE, PURPOSES_FILE):
        digest.update(f"{name}\0{len(contents[name])}\0".encode())
        digest.update(contents[name])
    return digest.hexdigest()[:16]


def _silence_casbin() -> None:
    # casbin logs every request (denials at WARNING) and dumps the rules while it builds; it
    # disables its loggers itself only after construction, so do it before.
    for name in _CASBIN_LOGGERS:
        logging.getLogger(name).disabled = True
