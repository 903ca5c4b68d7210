"""The engine's compiled decisions agree with every row of the expectations matrix."""

from __future__ import annotations

import pytest

from fieldgate.authz.classification import Catalog
from fieldgate.authz.decisions import decide_field
from fieldgate.authz.policy import Policy
from fieldgate.authz.policy_loading import load_policy
from fieldgate.authz.policy_rules import RowCondition
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.authz.purposes import load_purposes
from fieldgate.schema import build_schema
from fieldgate.schema.catalog import build_catalog
from fieldgate.settings import PACKAGED_POLICY_DIR
from tests.matrix.expectations import KINDS, load_matrix

ROWS = {
    "other": frozenset({RowCondition.ANY}),
    "owner": frozenset({RowCondition.ANY, RowCondition.OWNER}),
    "assigned": frozenset({RowCondition.ANY, RowCondition.ASSIGNED}),
}


@pytest.fixture(scope="module")
def engine_parts() -> tuple[Catalog, Policy]:
    vocabulary = load_purposes(PACKAGED_POLICY_DIR)
    policy = load_policy(PACKAGED_POLICY_DIR, vocabulary)
    return build_catalog(build_schema()._schema, vocabulary), policy


def test_every_classified_field_is_in_the_matrix(engine_parts: tuple[Catalog, Policy]) -> None:
    catalog, _ = engine_parts
    fields = {row.field for row in load_matrix()}
    assert fields == set(catalog.classifications)


def test_decisions_match_the_matrix(engine_parts: tuple[Catalog, Policy]) -> None:
    catalog, policy = engine_parts
    mismatches = []
    for row in load_matrix():
        principal = Principal(
            kind=KINDS.get(row.role, PrincipalKind.STAFF), id=1, roles=frozenset({row.role})
        )
        rule = decide_field(catalog.classifications[row.field], principal, row.purpose, policy)
        for column, conditions in ROWS.items():
            got = rule.outcome_for(conditions).disclosure.value
            if got != getattr(row, column):
                mismatches.append(
                    f"{row.role},{row.purpose},{row.field},{column}: "
                    f"expected {getattr(row, column)}, engine {got}"
                )
    assert not mismatches, "\n".join(mismatches[:40])
