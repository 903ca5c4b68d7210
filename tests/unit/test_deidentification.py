"""De-identified purposes: the policy's rules, group keys, the K_ANONYMITY and guardian gates,
and the cached group counts."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from fieldgate.authz.consent import UNKNOWN_SUBJECT, SubjectFacts, compile_gates
from fieldgate.authz.decisions import DenialReason
from fieldgate.authz.deidentification import Deidentification, generalised, group_key
from fieldgate.authz.masking import MaskStrategy
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.authz.purposes import PurposeVocabulary, load_purposes
from fieldgate.errors import PolicyError
from fieldgate.settings import PACKAGED_POLICY_DIR

INSIGHT = Principal(PrincipalKind.PARTNER, 4, "insight-1", frozenset({"analytics"}))


@pytest.fixture(scope="module")
def vocabulary() -> PurposeVocabulary:
    return load_purposes(PACKAGED_POLICY_DIR)


def facts(
    group: int | None, *, minor: bool = False, consents: frozenset[str] = frozenset()
) -> SubjectFacts:
    return SubjectFacts(consents, consents, minor=minor, group_size=group)


def test_the_packaged_policy_de_identifies_analytics(vocabulary: PurposeVocabulary) -> None:
    rules = vocabulary.deidentification
    assert rules.purposes == {"ANALYTICS"} and rules.k == 10
    assert rules.quasi_identifiers == ("User.birthDate", "User.gender", "User.region")


def test_quasi_identifiers_of_a_small_group_are_withheld(vocabulary: PurposeVocabulary) -> None:
    gates = compile_gates(INSIGHT, "ANALYTICS", vocabulary, do_not_track=False)
    assert gates.active and gates.counts_groups and gates.k == 10
    for coordinate in ("User.birthDate", "User.gender", "User.region"):
        assert gates.reason(coordinate, 7, facts(9)) is DenialReason.K_ANONYMITY
        assert gates.reason(coordinate, 7, facts(10)) is None
        # a group never counted, a subject never found: too small (fail closed)
        assert gates.reason(coordinate, 7, facts(None)) is DenialReason.K_ANONYMITY
        assert gates.reason(coordinate, 7, None) is DenialReason.K_ANONYMITY
    assert gates.reason("Order.amountCents", 7, facts(1)) is None  # not a quasi-identifier


def test_a_minor_reaches_analytics_only_with_a_guardians_consent(
    vocabulary: PurposeVocabulary,
) -> None:
    gates = compile_gates(INSIGHT, "ANALYTICS", vocabulary, do_not_track=False)
    alone = facts(50, minor=True)
    guarded = facts(50, minor=True, consents=frozenset({"ANALYTICS"}))
    assert gates.reason("Order.amountCents", 7, alone) is DenialReason.GUARDIAN_CONSENT_REQUIRED
    assert gates.reason("Order.amountCents", 7, guarded) is None
    assert gates.reason("User.gender", 7, UNKNOWN_SUBJECT) is (
        DenialReason.GUARDIAN_CONSENT_REQUIRED
    )
    assert gates.reason("Order.amountCents", 7, facts(50)) is None  # adults need nothing


def test_other_purposes_count_no_groups(vocabulary: PurposeVocabulary) -> None:
    gates = compile_gates(INSIGHT, "DELIVERY", vocabulary, do_not_track=False)
    assert not gates.counts_groups and gates.deidentified_purpose is None
    assert gates.reason("User.gender", 7, facts(1, minor=True)) is None


def test_groups_are_counted_on_the_generalised_values() -> None:
    strategies = (MaskStrategy.DATE_YEAR, MaskStrategy.REDACT, MaskStrategy.REGION_PROVINCE)
    one = group_key((date(1990, 3, 7), "女", "广东省深圳市"), strategies)
    other = group_key((date(1990, 11, 1), " 女 ", "广东广州市"), strategies)
    assert one == other == ("1990", "女", "广东省")
    assert group_key((None, None, None), strategies) == (None, None, None)
    assert generalised(datetime(2026, 3, 7, 10), MaskStrategy.DATE_MONTH) == "2026-03"


def policy_with(tmp_path: Path, table: str) -> Path:
    folder = tmp_path / "policy"
    shutil.copytree(PACKAGED_POLICY_DIR, folder)
    text = (folder / "purposes.toml").read_text(encoding="utf-8")
    start = text.index("[deidentification]")
    (folder / "purposes.toml").write_text(text[:start] + table, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "table",
    [
        '[deidentification]\npurposes = ["NOPE"]\n',
        "[deidentification]\nk = 1\n",
        '[deidentification]\nk = "10"\n',
        '[deidentification]\nquasi_identifiers = ["Order.createdAt"]\n',
        "[deidentification]\nrefresh_seconds = 0\n",
    ],
)
def test_a_malformed_table_is_refused(tmp_path: Path, table: str) -> None:
    with pytest.raises(PolicyError, match=r"\[deidentification\]"):
        load_purposes(policy_with(tmp_path, table))


def test_without_the_table_nothing_is_de_identified(tmp_path: Path) -> None:
    rules = load_purposes(policy_with(tmp_path, "")).deidentification
    assert rules == Deidentification()


def test_statistical_masks_serve_de_identified_purposes_only() -> None:
    from fieldgate.authz.decisions import Disclosure, decide_field
    from fieldgate.authz.policy_loading import load_policy
    from fieldgate.schema import build_schema
    from fieldgate.schema.catalog import build_catalog

    vocabulary = load_purposes(PACKAGED_POLICY_DIR)
    policy = load_policy(PACKAGED_POLICY_DIR, vocabulary)
    catalog = build_catalog(build_schema()._schema, vocabulary)
    region = catalog.classifications["User.region"]
    analytics = decide_field(region, INSIGHT, "ANALYTICS", policy).default
    assert analytics.disclosure is Disclosure.MASKED
    assert analytics.strategy is MaskStrategy.REGION_PROVINCE
    admin = Principal(PrincipalKind.STAFF, 1, "admin", frozenset({"admin"}))
    for purpose in ("ACCOUNT", "SECURITY"):  # a masked User.* grant: no province for them
        outcome = decide_field(region, admin, purpose, policy).default
        assert (outcome.disclosure, outcome.reason) == (Disclosure.DENIED, DenialReason.NO_MASK)
