"""Per-row gates: consent, guardians, Do-Not-Track, cross-border (pure functions)."""

from __future__ import annotations

from datetime import date

import pytest

from fieldgate.authz.classification import Level
from fieldgate.authz.consent import (
    CROSS_BORDER,
    UNKNOWN_SUBJECT,
    SubjectFacts,
    age_on,
    compile_gates,
    subject_level,
)
from fieldgate.authz.decisions import DenialReason
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.authz.purposes import PurposeVocabulary, load_purposes
from fieldgate.settings import PACKAGED_POLICY_DIR

ADULT = SubjectFacts(frozenset({"MARKETING", CROSS_BORDER}), frozenset({"MARKETING", CROSS_BORDER}))
NOBODY = SubjectFacts(frozenset(), frozenset())
MINOR_ALONE = SubjectFacts(frozenset(), frozenset({"MARKETING"}), minor=True)
MINOR_GUARDED = SubjectFacts(frozenset({"MARKETING"}), frozenset({"MARKETING"}), minor=True)

STAFF = Principal(kind=PrincipalKind.STAFF, id=3, roles=frozenset({"marketing"}))
ALICE = Principal(kind=PrincipalKind.USER, id=1, roles=frozenset({"user"}))


@pytest.fixture(scope="module")
def vocabulary() -> PurposeVocabulary:
    return load_purposes(PACKAGED_POLICY_DIR)


def test_age() -> None:
    assert age_on(date(2008, 12, 1), date(2026, 11, 30)) == 17
    assert age_on(date(2008, 11, 30), date(2026, 11, 30)) == 18
    assert age_on(None, date(2026, 1, 1)) is None


def test_purposes_that_need_consent(vocabulary: PurposeVocabulary) -> None:
    gates = compile_gates(STAFF, "MARKETING", vocabulary, do_not_track=False)
    assert gates.reason("User.phone", 7, ADULT) is None
    assert gates.reason("User.phone", 7, NOBODY) is DenialReason.CONSENT_REQUIRED
    assert gates.reason("User.phone", 7, None) is DenialReason.CONSENT_REQUIRED  # fail closed
    assert gates.reason("User.phone", None, None) is None  # rows without a subject
    assert not compile_gates(STAFF, "CUSTOMER_SUPPORT", vocabulary, do_not_track=False).active


def test_minor_needs_a_guardian(vocabulary: PurposeVocabulary) -> None:
    gates = compile_gates(STAFF, "MARKETING", vocabulary, do_not_track=False)
    assert gates.reason("User.phone", 7, MINOR_ALONE) is DenialReason.GUARDIAN_CONSENT_REQUIRED
    assert gates.reason("User.phone", 7, MINOR_GUARDED) is None


def test_identity_consent_only_for_identity_fields(vocabulary: PurposeVocabulary) -> None:
    gates = compile_gates(STAFF, "IDENTITY_VERIFICATION", vocabulary, do_not_track=False)
    assert gates.reason("User.idNumber", 7, NOBODY) is DenialReason.CONSENT_REQUIRED
    assert gates.reason("Order.buyerIdNumber", 7, NOBODY) is DenialReason.CONSENT_REQUIRED
    assert gates.reason("User.realName", 7, NOBODY) is None
    verified = SubjectFacts(frozenset({"IDENTITY_VERIFICATION"}), frozenset())
    assert gates.reason("User.idNumber", 7, verified) is None


def test_do_not_track_keeps_the_callers_own_data_out(vocabulary: PurposeVocabulary) -> None:
    tracked = compile_gates(ALICE, "PERSONALISATION", vocabulary, do_not_track=True)
    everyone = SubjectFacts(frozenset({"PERSONALISATION"}), frozenset({"PERSONALISATION"}))
    assert tracked.reason("User.gender", 1, everyone) is DenialReason.DO_NOT_TRACK
    assert tracked.reason("User.gender", 2, everyone) is None
    untracked = compile_gates(ALICE, "PERSONALISATION", vocabulary, do_not_track=False)
    assert untracked.reason("User.gender", 1, everyone) is None
    rights = compile_gates(ALICE, "RIGHTS", vocabulary, do_not_track=True)
    assert not rights.active  # DNT concerns personalisation and marketing only


def test_cross_border(vocabulary: PurposeVocabulary) -> None:
    abroad = Principal(
        kind=PrincipalKind.PARTNER, id=5, roles=frozenset({"logistics"}), partner_region="SG"
    )
    home = Principal(
        kind=PrincipalKind.PARTNER, id=1, roles=frozenset({"logistics"}), partner_region="CN"
    )
    gates = compile_gates(abroad, "DELIVERY", vocabulary, do_not_track=False)
    assert gates.reason("Order.buyerPhone", 7, NOBODY) is (
        DenialReason.CROSS_BORDER_CONSENT_REQUIRED
    )
    assert gates.reason("Order.buyerPhone", 7, ADULT) is None
    assert not compile_gates(home, "DELIVERY", vocabulary, do_not_track=False).active


def test_a_childs_personal_data_is_sensitive() -> None:
    child = SubjectFacts(frozenset(), frozenset(), minor=True, child=True)
    teen = SubjectFacts(frozenset(), frozenset(), minor=True)
    assert subject_level(Level.PERSONAL, child) is Level.SENSITIVE
    assert subject_level(Level.SENSITIVE, child) is Level.SENSITIVE
    assert subject_level(Level.INTERNAL, child) is Level.INTERNAL  # ids stay what they are
    assert subject_level(Level.PUBLIC, child) is Level.PUBLIC
    assert subject_level(Level.PERSONAL, teen) is Level.PERSONAL
    assert subject_level(Level.PERSONAL, ADULT) is Level.PERSONAL


def test_a_subject_not_found_gets_the_most_care(vocabulary: PurposeVocabulary) -> None:
    assert subject_level(Level.PERSONAL, UNKNOWN_SUBJECT) is Level.SENSITIVE
    marketing = compile_gates(STAFF, "MARKETING", vocabulary, do_not_track=False)
    assert marketing.reason("User.email", 7, UNKNOWN_SUBJECT) is DenialReason.CONSENT_REQUIRED
    abroad = Principal(
        kind=PrincipalKind.PARTNER, id=5, roles=frozenset({"logistics"}), partner_region="SG"
    )
    gates = compile_gates(abroad, "DELIVERY", vocabulary, do_not_track=False)
    assert gates.reason("Order.buyerPhone", 7, UNKNOWN_SUBJECT) is (
        DenialReason.CROSS_BORDER_CONSENT_REQUIRED
    )
