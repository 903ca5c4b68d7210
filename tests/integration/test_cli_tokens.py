"""The ``fieldgate`` command against a real database (SQLite and PostgreSQL).

Issue, list and revoke tokens through the command as an operator would; ``policy
explain`` and ``policy lint`` need no database and are tested in ``tests/unit``.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
from sqlmodel.ext.asyncio.session import AsyncSession
from typer.testing import CliRunner, Result

from fieldgate.cli import app
from fieldgate.identity.passwords import hash_password
from fieldgate.infra.db import create_engine
from fieldgate.models import Partner, Staff, User


async def invoke(arguments: list[str]) -> Result:
    def run() -> Result:
        return CliRunner().invoke(app, arguments)

    # the command runs its own event loop: keep it off the test's
    return await asyncio.to_thread(run)


@pytest.fixture
async def names(
    migrated_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """A staff member, a user and a partner with names of this test alone."""
    monkeypatch.setenv("FIELDGATE_DATABASE_URL", migrated_database_url)
    monkeypatch.setenv("FIELDGATE_KEY_DIR", str(tmp_path / "keys"))
    for name in ("ENV", "SIGNING_KEY_FILE"):
        monkeypatch.delenv(f"FIELDGATE_{name}", raising=False)
    suffix = secrets.token_hex(4)
    found = {
        "staff": f"agent-{suffix}",
        "user": f"learner-{suffix}",
        "partner": f"courier-{suffix}",
    }
    now = datetime.now(UTC)
    password_hash = hash_password("fieldgate-test")
    engine = create_engine(migrated_database_url)
    try:
        async with AsyncSession(engine) as session:
            session.add_all(
                [
                    Staff(
                        username=found["staff"],
                        password_hash=password_hash,
                        display_name="Agent",
                        roles="support_agent",
                        created_at=now,
                    ),
                    User(username=found["user"], password_hash=password_hash, created_at=now),
                    Partner(
                        name=found["partner"],
                        kind="logistics",
                        region="CN",
                        allowed_purposes="DELIVERY MARKETING",  # MARKETING: not its role's
                        created_at=now,
                    ),
                ]
            )
            await session.commit()
    finally:
        await engine.dispose()
    return found


def claims(token: str) -> dict[str, str]:
    decoded: dict[str, str] = jwt.decode(token, options={"verify_signature": False})
    return decoded


def listed(result: Result) -> dict[str, list[str]]:
    """The rows of ``token list`` by jti."""
    assert result.exit_code == 0, result.output
    _, *rows = result.stdout.strip().splitlines()
    return {row.split()[0]: row.split() for row in rows}


async def test_issue_list_and_revoke_through_the_command(names: dict[str, str]) -> None:
    issued = await invoke(["token", "issue", "--sub", names["staff"], "--ttl", "30m"])
    assert issued.exit_code == 0, issued.output
    token = claims(issued.stdout.strip())

    before = listed(await invoke(["token", "list", "--sub", names["staff"]]))
    assert list(before) == [token["jti"]]
    jti, subject, _issued, _expires, revoked = before[token["jti"]]
    assert (jti, subject, revoked) == (token["jti"], token["sub"], "-")

    revoking = await invoke(["token", "revoke", token["jti"]])
    assert revoking.exit_code == 0, revoking.output

    after = listed(await invoke(["token", "list", "--sub", token["sub"]]))
    assert after[token["jti"]][4] != "-"


async def test_list_finds_users_and_partners_by_name(names: dict[str, str]) -> None:
    subjects = {}
    for kind in ("user", "partner"):
        issued = await invoke(["token", "issue", "--sub", names[kind]])
        assert issued.exit_code == 0, issued.output
        subjects[kind] = claims(issued.stdout.strip())["sub"]

    for kind in ("user", "partner"):
        rows = listed(await invoke(["token", "list", "--sub", names[kind]]))
        assert [row[1] for row in rows.values()] == [subjects[kind]]
        assert subjects[kind].startswith(f"{kind}:")

    everyone = listed(await invoke(["token", "list"]))
    assert {row[1] for row in everyone.values()} >= set(subjects.values())


async def test_list_refuses_an_unknown_name(names: dict[str, str]) -> None:
    result = await invoke(["token", "list", "--sub", f"{names['staff']}-nobody"])

    assert result.exit_code == 1
    assert result.stderr == "error: no staff member, user or partner has that name\n"


UNDECLARABLE = {"staff": "MARKETING", "user": "SECURITY", "partner": "MARKETING"}


@pytest.mark.parametrize("kind", sorted(UNDECLARABLE))
async def test_issue_refuses_unknown_scopes_and_undeclarable_purposes(
    names: dict[str, str], kind: str
) -> None:
    for scope in ("Order.buyerPhnoe", "Invoice.*", "Invoice:*"):
        result = await invoke(["token", "issue", "--sub", names[kind], "--scope", scope])
        assert result.exit_code == 1
        assert result.stderr == (
            f"error: scopes name no type or field of the schema: ['{scope}']\n"
        )
    purpose = UNDECLARABLE[kind]
    result = await invoke(["token", "issue", "--sub", names[kind], "--purpose", purpose])
    assert result.exit_code == 1
    assert result.stderr == f"error: the token's roles may not declare the purposes ['{purpose}']\n"
    nothing = await invoke(["token", "list", "--sub", names[kind]])
    assert "no tokens" in nothing.stderr and nothing.stdout == ""

    narrowed = await invoke(
        ["token", "issue", "--sub", names[kind], "--scope", "Order.*", "--scope", "User.phone"]
    )
    assert narrowed.exit_code == 0, narrowed.output


async def test_revoke_sub_revokes_every_token_of_that_subject_only(names: dict[str, str]) -> None:
    mine, theirs = [], []
    for target, subject in ((mine, names["partner"]), (theirs, names["user"])):
        for _ in range(2):
            issued = await invoke(["token", "issue", "--sub", subject])
            assert issued.exit_code == 0, issued.output
            target.append(claims(issued.stdout.strip())["jti"])

    revoking = await invoke(["token", "revoke", "--sub", names["partner"]])
    assert revoking.exit_code == 0, revoking.output
    assert revoking.stderr == f"revoked 2 tokens of {names['partner']}\n"
    partner_tokens = listed(await invoke(["token", "list", "--sub", names["partner"]]))
    assert all(partner_tokens[jti][4] != "-" for jti in mine)
    user_tokens = listed(await invoke(["token", "list", "--sub", names["user"]]))
    assert all(user_tokens[jti][4] == "-" for jti in theirs)
    again = await invoke(["token", "revoke", "--sub", names["partner"]])
    assert again.stderr == f"revoked 0 tokens of {names['partner']}\n"
    both = await invoke(["token", "revoke", mine[0], "--sub", names["partner"]])
    assert both.exit_code == 1
