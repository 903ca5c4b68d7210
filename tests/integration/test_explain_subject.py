"""``fieldgate policy explain --subject``: the outcome on one data subject's rows after the
per-row gates, one test per reason (and the child's level), on both databases."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession
from typer.testing import CliRunner, Result

from fieldgate.cli import app
from fieldgate.identity.passwords import hash_password
from fieldgate.infra.db import create_engine
from fieldgate.models import Consent, User

Subjects = dict[str, str]


async def invoke(arguments: list[str]) -> Result:
    def run() -> Result:
        return CliRunner().invoke(app, ["policy", "explain", *arguments])

    return await asyncio.to_thread(run)  # the command runs its own event loop


def born_aged(years: int) -> date:
    return datetime.now(UTC).date() - timedelta(days=years * 365 + 100)


@pytest.fixture
async def subjects(
    migrated_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Subjects:
    """Data subjects of this test alone: role -> username."""
    monkeypatch.setenv("FIELDGATE_DATABASE_URL", migrated_database_url)
    monkeypatch.setenv("FIELDGATE_KEY_DIR", str(tmp_path / "keys"))
    for name in ("ENV", "POLICY_DIR"):
        monkeypatch.delenv(f"FIELDGATE_{name}", raising=False)
    suffix = secrets.token_hex(4)
    now = datetime.now(UTC)
    people: dict[str, tuple[date, dict[str, bool]]] = {
        # purpose -> backed by a guardian's consent
        "consenting": (
            born_aged(35),
            dict.fromkeys(
                ["MARKETING", "PERSONALISATION", "IDENTITY_VERIFICATION", "CROSS_BORDER"], False
            ),
        ),
        "silent": (born_aged(40), {}),
        "teen": (born_aged(16), {"MARKETING": False}),
        "child": (born_aged(12), {"PERSONALISATION": True}),
    }
    password_hash = hash_password("fieldgate-test")
    engine = create_engine(migrated_database_url)
    names = {}
    try:
        async with AsyncSession(engine) as session:
            for role, (birth_date, consents) in people.items():
                user = User(
                    username=f"{role}-{suffix}",
                    password_hash=password_hash,
                    created_at=now,
                    birth_date=birth_date,
                )
                session.add(user)
                await session.flush()
                assert user.id is not None
                for purpose, guarded in consents.items():
                    session.add(
                        Consent(
                            user_id=user.id,
                            purpose=purpose,
                            granted_at=now,
                            guardian_consent=guarded,
                            guardian_name="监护人" if guarded else None,
                        )
                    )
                names[role] = user.username
                if role == "silent":  # a withdrawn consent is no consent
                    session.add(
                        Consent(
                            user_id=user.id, purpose="MARKETING", granted_at=now, withdrawn_at=now
                        )
                    )
            await session.commit()
    finally:
        await engine.dispose()
    return names


async def explained(arguments: list[str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The JSON document of ``policy explain`` and its per-field subject outcomes."""
    result = await invoke([*arguments, "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    return document, {f["field"]: f["subject"] for f in document["fields"]}


def outcome(disclosure: str, reason: str | None, level: str, audited: bool) -> dict[str, Any]:
    return {"disclosure": disclosure, "reason": reason, "level": level, "audited": audited}


async def test_consent_required(subjects: Subjects) -> None:
    marketing = ["--role", "marketing", "--purpose", "MARKETING"]
    document, fields = await explained([*marketing, "--subject", subjects["silent"]])
    assert fields["User.phone"] == outcome("DENIED", "CONSENT_REQUIRED", "SENSITIVE", False)
    assert fields["User.email"] == outcome("DENIED", "CONSENT_REQUIRED", "PERSONAL", False)
    assert document["subject"]["consents"] == [] and document["subject"]["age"] == "adult"
    _, fields = await explained([*marketing, "--subject", subjects["consenting"]])
    assert fields["User.phone"] == outcome("FULL", None, "SENSITIVE", True)
    assert fields["User.email"] == outcome("FULL", None, "PERSONAL", False)
    assert fields["User.realName"]["reason"] == "PURPOSE_NOT_ALLOWED_FOR_FIELD"  # not a gate's


async def test_identity_consent_required_for_id_numbers_only(subjects: Subjects) -> None:
    verify = ["--role", "verification_officer", "--purpose", "IDENTITY_VERIFICATION"]
    _, fields = await explained([*verify, "--subject", subjects["silent"]])
    assert fields["User.idNumber"] == outcome("DENIED", "CONSENT_REQUIRED", "SENSITIVE", False)
    assert fields["User.realName"] == outcome("FULL", None, "PERSONAL", False)
    _, fields = await explained([*verify, "--subject", subjects["consenting"]])
    assert fields["User.idNumber"] == outcome("FULL", None, "SENSITIVE", True)


async def test_guardian_consent_required(subjects: Subjects) -> None:
    document, fields = await explained(
        ["--role", "marketing", "--purpose", "MARKETING", "--subject", subjects["teen"]]
    )
    assert fields["User.email"] == outcome("DENIED", "GUARDIAN_CONSENT_REQUIRED", "PERSONAL", False)
    summary = document["subject"]
    assert (summary["age"], summary["consents"], summary["notInEffect"]) == (
        "minor",
        [],
        ["MARKETING"],
    )


async def test_do_not_track(subjects: Subjects) -> None:
    own = ["--role", "user", "--purpose", "PERSONALISATION", "--subject", subjects["consenting"]]
    _, fields = await explained(own)
    assert fields["User.gender"] == outcome("FULL", None, "PERSONAL", False)
    document, fields = await explained([*own, "--dnt"])
    assert fields["User.gender"] == outcome("DENIED", "DO_NOT_TRACK", "PERSONAL", False)
    assert fields["User.company"]["reason"] == "DO_NOT_TRACK"
    assert fields["User.id"] == outcome("FULL", None, "INTERNAL", False)  # not personal
    assert document["subject"]["doNotTrack"] is True
    # DNT keeps the caller's own data out: a staff member's signal is no gate on others
    staff = ["--role", "marketing", "--purpose", "MARKETING", "--dnt"]
    _, fields = await explained([*staff, "--subject", subjects["consenting"]])
    assert fields["User.phone"]["disclosure"] == "FULL"


async def test_cross_border_consent_required(subjects: Subjects) -> None:
    delivery = ["--role", "logistics", "--purpose", "DELIVERY"]
    abroad = [*delivery, "--partner-region", "sg"]
    _, fields = await explained([*abroad, "--subject", subjects["silent"]])
    assert fields["Order.buyerPhone"] == outcome(
        "DENIED", "CROSS_BORDER_CONSENT_REQUIRED", "SENSITIVE", False
    )
    assert fields["Order.id"]["disclosure"] == "FULL"  # INTERNAL: no gate
    _, fields = await explained([*abroad, "--subject", subjects["consenting"]])
    assert fields["Order.buyerPhone"] == outcome("FULL", None, "SENSITIVE", True)
    _, fields = await explained([*delivery, "--subject", subjects["silent"]])  # a CN partner
    assert fields["Order.buyerPhone"] == outcome("FULL", None, "SENSITIVE", True)


async def test_a_childs_personal_data_is_sensitive(subjects: Subjects) -> None:
    support = ["--role", "support_agent", "--purpose", "CUSTOMER_SUPPORT"]
    document, fields = await explained([*support, "--subject", subjects["child"]])
    assert document["subject"]["age"] == "child under 14"
    assert document["subject"]["consents"] == ["PERSONALISATION"]  # a guardian's
    assert fields["User.username"] == outcome("FULL", None, "SENSITIVE", True)
    assert fields["Order.orderNo"] == outcome("FULL", None, "SENSITIVE", True)
    assert fields["User.email"] == outcome("MASKED", None, "SENSITIVE", False)
    assert fields["Course.title"] == outcome("FULL", None, "PUBLIC", False)
    _, fields = await explained([*support, "--subject", subjects["silent"]])
    assert fields["User.username"] == outcome("FULL", None, "PERSONAL", False)


async def test_the_table_and_the_subject_by_id(subjects: Subjects) -> None:
    document, _ = await explained(["--role", "user", "--subject", subjects["child"]])
    by_id = await invoke(["--role", "user", "--subject", str(document["subject"]["id"])])
    assert by_id.exit_code == 0, by_id.output
    header, *lines = by_id.stdout.strip().splitlines()
    names = re.split(r" {2,}", header)
    assert names[-5:] == ["subject", "subject level", "subject reason", "audited", "rule"]
    rows = {
        cells[0]: dict(zip(names, cells, strict=True))
        for cells in (re.split(r" {2,}", line) for line in lines)
    }
    email = rows["User.email"]
    assert (email["own rows"], email["subject"], email["subject level"], email["audited"]) == (
        "FULL",
        "FULL",
        "SENSITIVE",
        "yes",
    )
    assert f"subject {subjects['child']}" in by_id.stderr
    assert "child under 14" in by_id.stderr


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        (["--role", "marketing", "--subject", "nobody-at-all"], "unknown data subject"),
        (["--role", "marketing", "--dnt"], "--subject"),
        (["--role", "logistics", "--partner-region", "SG"], "--subject"),
        (
            ["--role", "marketing", "--partner-region", "SG", "--subject", "{silent}"],
            "partner roles only",
        ),
    ],
)
async def test_refusals(subjects: Subjects, arguments: list[str], named: str) -> None:
    result = await invoke([a.format(**subjects) for a in arguments])
    assert result.exit_code == 2, result.output
    assert named in result.stderr
    assert result.stdout == ""


async def test_k_anonymity_and_minors_under_analytics(subjects: Subjects) -> None:
    analytics = ["--role", "analytics", "--purpose", "ANALYTICS"]
    document, fields = await explained([*analytics, "--subject", subjects["silent"]])
    assert document["deidentification"] == {
        "k": 10,
        "quasiIdentifiers": ["User.birthDate", "User.gender", "User.region"],
        "refreshSeconds": 300,
        "minorsNeedGuardianConsent": True,
    }
    # this database's users without a region or gender share one group, of this size
    size = document["subject"]["groupSize"]
    assert size >= 1
    if size < 10:
        assert fields["User.gender"] == outcome("DENIED", "K_ANONYMITY", "PERSONAL", False)
        assert fields["User.birthDate"]["reason"] == "K_ANONYMITY"
    else:
        assert fields["User.gender"]["reason"] is None
    assert fields["Order.amountCents"] == outcome("FULL", None, "PERSONAL", False)
    document, fields = await explained([*analytics, "--subject", subjects["teen"]])
    assert document["subject"]["groupSize"] == 0  # a minor without a guardian counts nowhere
    assert fields["Order.amountCents"]["reason"] == "GUARDIAN_CONSENT_REQUIRED"
    result = await invoke([*analytics])
    assert "withheld (K_ANONYMITY)" in result.stderr
