"""Policies that would lock administrators out or match nothing are refused, and a purpose
hierarchy with a cycle is an error naming it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fieldgate.authz.classification import Catalog
from fieldgate.authz.lint import lint_policy
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_loading import load_policy, policy_from_lines
from fieldgate.authz.purposes import PurposeVocabulary, load_purposes
from fieldgate.errors import PolicyError
from fieldgate.schema import build_schema
from fieldgate.schema.catalog import build_catalog
from fieldgate.settings import PACKAGED_POLICY_DIR


@pytest.fixture(scope="module")
def packaged() -> Policy:
    return load_policy(PACKAGED_POLICY_DIR, load_purposes(PACKAGED_POLICY_DIR))


@pytest.fixture(scope="module")
def catalog(packaged: Policy) -> Catalog:
    return build_catalog(build_schema()._schema, packaged.vocabulary)


def _with(packaged: Policy, lines: list[str]) -> Policy:
    return policy_from_lines(packaged.model_text, lines, packaged.vocabulary)


def test_the_packaged_policy_passes(packaged: Policy, catalog: Catalog) -> None:
    assert lint_policy(catalog, packaged) == []


def test_a_policy_without_rules_is_refused(packaged: Policy, catalog: Catalog) -> None:
    assert lint_policy(catalog, _with(packaged, [])) == ["policy.csv: the policy has no rule"]


def test_removing_the_last_manager_of_the_policy_is_refused(
    packaged: Policy, catalog: Catalog
) -> None:
    kept = [line for line in packaged.rule_lines() if "@policy" not in line]
    problems = lint_policy(catalog, _with(packaged, kept))
    assert problems == ["policy.csv: no role may manage @policy: nobody could change it again"]


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (
            "p, support_agent, Order.buyerPhnoe, *, full, *, deny",
            "unknown field 'Order.buyerPhnoe'",
        ),
        ("p, support_agent, Ordr.buyerPhone, *, masked, *, allow", "unknown type 'Ordr'"),
        ("p, support_agent, Invoice.*, *, full, *, allow", "unknown type 'Invoice'"),
        ("p, support_agent, Invoice, *, rows, all, allow", "unknown type 'Invoice'"),
    ],
)
def test_unknown_types_and_fields_are_named(
    packaged: Policy, catalog: Catalog, rule: str, problem: str
) -> None:
    lines = [*packaged.rule_lines(), rule]
    problems = lint_policy(catalog, _with(packaged, lines))
    assert problems == [f"policy.csv line {len(lines)}: {problem}"]


def test_known_wildcards_pass(packaged: Policy, catalog: Catalog) -> None:
    lines = [*packaged.rule_lines(), "p, support_agent, Course.*, *, full, *, allow"]
    assert lint_policy(catalog, _with(packaged, lines)) == []


def _purposes_with(tmp_path: Path, parents: dict[str, str]) -> Path:
    folder = tmp_path / "policy"
    shutil.copytree(PACKAGED_POLICY_DIR, folder)
    text = (folder / "purposes.toml").read_text(encoding="utf-8")
    for child, parent in parents.items():
        text = text.replace(f"[purposes.{child}]\n", f'[purposes.{child}]\nparent = "{parent}"\n')
    (folder / "purposes.toml").write_text(text, encoding="utf-8")
    return folder


def test_a_purpose_cycle_is_an_error_naming_it(tmp_path: Path) -> None:
    folder = _purposes_with(tmp_path, {"ACCOUNT": "LEGAL", "LEGAL": "ACCOUNT"})
    with pytest.raises(PolicyError) as raised:
        load_purposes(folder)
    assert raised.value.code == "POLICY_INVALID"
    assert raised.value.message == (
        "purposes.toml: the purpose hierarchy has a cycle: ACCOUNT -> LEGAL -> ACCOUNT"
    )


def test_a_purpose_that_is_its_own_parent_is_a_cycle(tmp_path: Path) -> None:
    folder = _purposes_with(tmp_path, {"LEGAL": "LEGAL"})
    with pytest.raises(PolicyError, match="cycle: LEGAL -> LEGAL"):
        load_purposes(folder)


def test_a_longer_cycle_is_named_from_its_first_purpose(tmp_path: Path) -> None:
    folder = _purposes_with(
        tmp_path, {"ORDER_FULFILLMENT": "PAYMENT", "RESEARCH": "ANALYTICS", "ANALYTICS": "RESEARCH"}
    )
    with pytest.raises(PolicyError, match="cycle: ANALYTICS -> RESEARCH -> ANALYTICS"):
        load_purposes(folder)


def test_the_packaged_hierarchy_has_no_cycle() -> None:
    vocabulary: PurposeVocabulary = load_purposes(PACKAGED_POLICY_DIR)
    assert vocabulary.lineage("DELIVERY") == ("DELIVERY", "ORDER_FULFILLMENT")
