"""Loading a policy: the model and rules of the policy folder, or rule lines and a model text.

The model (``model.conf``) and the rules (``policy.csv``) are data in the policy folder; the
purpose hierarchy of ``purposes.toml`` becomes casbin's ``g2`` relation. The enforcers are
built once per load, one per role; the version hashes the three files.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

from fieldgate.authz.policy import Policy, RoleEnforcer, casbin_model
from fieldgate.authz.policy_rules import (
    RULES_FILE,
    PolicyLine,
    ancestors,
    lint_lines,
    named_roles,
    parse_lines,
    role_parents,
)
from fieldgate.authz.purposes import PurposeVocabulary
from fieldgate.errors import PolicyError

MODEL_FILE = "model.conf"
PURPOSES_FILE = "purposes.toml"

_REQUEST_TOKENS = ["r_sub", "r_obj", "r_purpose", "r_act", "r_cond"]
_POLICY_TOKENS = ["p_sub", "p_obj", "p_purpose", "p_act", "p_cond", "p_eft"]
_DENY_WINS = "some(where (p_eft == allow)) && !some(where (p_eft == deny))"  # as casbin stores it
_CASBIN_LOGGERS = ("casbin", "casbin.policy", "casbin.enforcer", "casbin.role")


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
    inherits = role_parents(lines)
    enforcers: dict[str, RoleEnforcer] = {}
    for role in sorted(named_roles(lines)):
        subjects = {role} | ancestors(role, inherits)
        rules = [line.values for line in lines if line.values[1] in subjects] + hierarchy
        try:
            enforcers[role] = RoleEnforcer(model_text, rules)
        except Exception as exc:  # casbin raises bare RuntimeError, KeyError, ...
            raise PolicyError(f"{MODEL_FILE} is invalid: {type(exc).__name__}") from None
    policy = Policy(enforcers, lines, vocabulary, version)
    policy.model_text = model_text
    return policy


def _check_model(text: str) -> None:
    try:
        model = casbin_model(text)
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
