"""Audit events: their builders, their columns, the chain's links and the key file."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from fieldgate.audit.chain import (
    GENESIS,
    AuditKey,
    canonical,
    link_of,
    load_audit_key,
    read_audit_key,
)
from fieldgate.audit.events import (
    Actor,
    AuditKind,
    ConsentChange,
    RightsRequest,
    consent_change_event,
    policy_change_event,
    rights_request_event,
    token_issued_event,
    token_revoked_event,
)
from fieldgate.audit.request import RequestFacts, request_events
from fieldgate.audit.store import chained_rows
from fieldgate.authz.decisions import Disclosure
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.errors import ConfigurationError
from fieldgate.settings import Settings

WHEN = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
AGENT = Principal(
    kind=PrincipalKind.STAFF, id=7, name="support1", roles=frozenset({"support_agent"}),
    token_id="jti-1",
)  # fmt: skip
FACTS = RequestFacts(
    actor=Actor.of(AGENT),
    request_id="req-1",
    purpose="CUSTOMER_SUPPORT",
    operation_name="Lookup",
    document_hash="ab" * 32,
    policy_version="0123456789abcdef",
    token_id=AGENT.token_id,
)


def test_one_event_per_coordinate_and_outcome_with_every_subject() -> None:
    audited = {
        ("User.idNumber", Disclosure.DENIED): set(range(20, 0, -1)),
        ("User.phone", Disclosure.FULL): {3, 1},
        ("Order.bankCard", Disclosure.DENIED): set(),
    }
    events = request_events(audited, FACTS, {"User.idNumber": "NO_GRANT"}, at=WHEN)
    assert [(e.coordinate, e.kind, e.outcome) for e in events] == [
        ("Order.bankCard", AuditKind.DENIAL, "DENIED"),
        ("User.idNumber", AuditKind.DENIAL, "DENIED"),
        ("User.phone", AuditKind.DISCLOSURE, "FULL"),
    ]
    denied = events[1]
    assert denied.subjects == tuple(range(1, 21))
    assert denied.reason == "NO_GRANT"
    assert events[2].reason is None
    for e in events:
        assert (e.principal_kind, e.principal_id, e.principal_roles) == (
            "staff",
            7,
            ("support_agent",),
        )
        assert (e.request_id, e.purpose, e.operation_name, e.policy_version) == (
            "req-1",
            "CUSTOMER_SUPPORT",
            "Lookup",
            "0123456789abcdef",
        )
        assert e.detail == {"jti": "jti-1"}
        assert e.partner_id is None


def test_partner_actor_names_the_partner() -> None:
    partner = Principal(kind=PrincipalKind.PARTNER, id=4, roles=frozenset({"logistics"}))
    assert Actor.of(partner) == Actor("partner", 4, ("logistics",), 4)
    assert Actor.account("user", 9, ["user"]).partner_id is None


def test_builders_of_the_other_kinds() -> None:
    holder = Actor.account(PrincipalKind.USER, 5, ["user"])
    issued = token_issued_event(
        holder, jti="j", expires_at=WHEN + timedelta(hours=1), purposes=["RIGHTS"], via="login"
    )
    assert (issued.kind, issued.outcome, issued.principal_id) == (
        AuditKind.TOKEN_ISSUED,
        "ISSUED",
        5,
    )
    assert issued.detail["jti"] == "j" and issued.detail["via"] == "login"
    revoked = token_revoked_event(holder, jti="j")
    assert (revoked.kind, revoked.outcome, revoked.detail) == (
        AuditKind.TOKEN_REVOKED,
        "REVOKED",
        {"jti": "j"},
    )
    change = policy_change_event("old", "new")
    assert change.policy_version == "new" and change.detail == {"old": "old", "new": "new"}
    assert change.principal_kind == "system"
    consent = consent_change_event(holder, 5, "MARKETING", ConsentChange.WITHDRAWN, guardian=True)
    assert (consent.kind, consent.outcome, consent.subjects, consent.purpose) == (
        AuditKind.CONSENT_CHANGE,
        "WITHDRAWN",
        (5,),
        "RIGHTS",
    )
    assert consent.detail == {"consent": "MARKETING", "guardian": True}
    rights = rights_request_event(
        holder, 5, RightsRequest.CORRECTION, fields=["User.phone", "User.email"]
    )
    assert rights.kind is AuditKind.RIGHTS_REQUEST
    assert rights.detail == {"request": "CORRECTION", "fields": ["User.email", "User.phone"]}


def test_columns_are_cut_to_their_widths_and_subjects_deduplicated() -> None:
    long_facts = RequestFacts(
        actor=FACTS.actor,
        request_id=None,
        purpose=None,
        operation_name="Q" * 500,
        document_hash=None,
        policy_version=None,
    )
    [e] = request_events({("User.phone", Disclosure.FULL): {2, 1}}, long_facts, {})
    columns = e.columns()
    assert len(columns["operation_name"]) == 128
    assert columns["subjects"] == "1 2" and columns["subject_count"] == 2
    assert columns["principal_roles"] == "support_agent"


def test_links_chain_and_cover_every_column() -> None:
    key = AuditKey.generate()
    events = request_events(
        {("User.phone", Disclosure.FULL): {1}, ("User.email", Disclosure.DENIED): {1}}, FACTS, {}
    )
    rows, subjects = chained_rows(events, key, 0, GENESIS)
    assert [r["seq"] for r in rows] == [1, 2]
    assert rows[0]["prev_link"] == GENESIS and rows[1]["prev_link"] == rows[0]["link"]
    # both name subject 1: the second shares the first's rows, and says so in its link
    assert subjects == [{"seq": 1, "user_id": 1}]
    assert [r["subjects_seq"] for r in rows] == [1, 1]
    assert json.loads(rows[0]["detail"]) == {"jti": "jti-1"}
    for row in rows:
        assert link_of(key, row) == row["link"]
        for column in row:
            if column == "link":
                continue
            edited = dict(row)
            edited[column] = "x" if not isinstance(row[column], str) else row[column] + "x"
            assert link_of(key, edited) != row["link"], column
    assert link_of(AuditKey.generate(), rows[0]) != rows[0]["link"]


def test_canonical_times_do_not_depend_on_how_the_database_returns_them() -> None:
    key = AuditKey.generate()
    [event] = request_events({("User.phone", Disclosure.FULL): {1}}, FACTS, {}, at=WHEN)
    [row], _ = chained_rows([event], key, 4, "f" * 64)
    naive = dict(row, at=WHEN.replace(tzinfo=None))  # SQLite
    shifted = dict(row, at=WHEN.astimezone(timezone(timedelta(hours=8))))  # a session zone
    assert canonical(naive) == canonical(row) == canonical(shifted)
    assert b'"at":"2024-05-01T08:30:00.000000Z"' in canonical(row)


def test_development_key_is_generated_private_and_stable(tmp_path: Path) -> None:
    settings = Settings(key_dir=tmp_path / "keys")
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_audit_key(settings, create=False)
    key = load_audit_key(settings)
    path = tmp_path / "keys" / "audit.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_audit_key(settings) == key
    assert key.secret.hex() not in repr(key)


def test_production_requires_a_key_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="FIELDGATE_AUDIT_KEY_FILE is required"):
        load_audit_key(Settings(env="production", key_dir=tmp_path))
    path = tmp_path / "audit.key"
    path.write_text("00" * 32)
    assert load_audit_key(Settings(env="production", audit_key_file=path)).secret == bytes(32)


@pytest.mark.parametrize("content", ["", "zz" * 32, "ab" * 8, "a" * 65])
def test_unusable_key_files_are_named_never_quoted(tmp_path: Path, content: str) -> None:
    path = tmp_path / "audit.key"
    path.write_text(content)
    with pytest.raises(ConfigurationError) as caught:
        read_audit_key(path)
    assert str(path) in str(caught.value)
    if content:
        assert content not in str(caught.value)
