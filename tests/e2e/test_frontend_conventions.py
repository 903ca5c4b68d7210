"""What a web frontend relies on: `me` for a signed-out visitor, a session with an expiry
that signing out ends, the purposes described, the fields' classification in their docs,
and a refusal in one line when the CORS origins are wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

from tests.gateway import Gateway

LOGIN = 'mutation { login(username: "alice", password: "fieldgate-demo") { token expiresAt } }'


async def test_me_is_null_for_anonymous(gateway: Gateway) -> None:
    assert (await gateway.gql("{ me { id } }"))["data"] == {"me": None}


async def test_me_is_null_for_a_partner(gateway: Gateway) -> None:
    assert (await gateway.gql("{ me { id } }", as_="sf-express"))["data"] == {"me": None}


async def test_login_returns_a_token_and_its_expiry(gateway: Gateway) -> None:
    answer = await gateway.gql(LOGIN)
    session = answer["data"]["login"]
    expires = datetime.fromisoformat(session["expiresAt"])
    ttl = gateway.services.settings.token_ttl
    assert abs((expires - datetime.now(UTC) - ttl).total_seconds()) < 60
    me = await gateway.gql("{ me { username } }", token=session["token"])
    assert me["data"]["me"]["username"] == "alice"


async def test_logout_revokes_the_token(gateway: Gateway) -> None:
    token = (await gateway.gql(LOGIN))["data"]["login"]["token"]
    assert (await gateway.gql("mutation { logout }", token=token))["data"] == {"logout": True}
    after = await gateway.post("{ me { username } }", token=token)
    assert after.status_code == 401


async def test_logout_needs_a_token(gateway: Gateway) -> None:
    answer = await gateway.gql("mutation { logout }")
    assert answer["data"] is None
    assert answer["errors"][0]["extensions"]["code"] in {
        "GRAPHQL_VALIDATION_FAILED",
        "UNAUTHENTICATED",
    }


async def test_purposes_carry_their_descriptions(gateway: Gateway) -> None:
    answer = await gateway.gql(
        '{ __type(name: "Purpose") { enumValues { name description } } }', as_="support1"
    )
    described = {v["name"]: v["description"] for v in answer["data"]["__type"]["enumValues"]}
    assert described["CUSTOMER_SUPPORT"] == "after-sales service, complaints, disputes"
    assert described["MARKETING"].startswith("direct marketing")
    assert "consent" in described["MARKETING"]
    assert "ORDER_FULFILLMENT" in described["DELIVERY"]


async def test_field_descriptions_carry_the_classification(gateway: Gateway) -> None:
    answer = await gateway.gql(
        '{ __type(name: "Order") { fields { name description } } }', as_="support1"
    )
    described = {f["name"]: f["description"] for f in answer["data"]["__type"]["fields"]}
    assert described["buyerPhone"] == (
        "SENSITIVE · mask PHONE · purposes: CUSTOMER_SUPPORT, DELIVERY"
        " · never for: ANALYTICS, MARKETING, PERSONALISATION, RESEARCH"
    ) or described["buyerPhone"].startswith("SENSITIVE · mask PHONE")


def test_a_wildcard_origin_stops_the_server_in_one_line() -> None:
    for origins in ("*", "app.example"):
        done = subprocess.run(
            [sys.executable, "-m", "fieldgate.cli", "serve"],
            env={
                **os.environ,
                "FIELDGATE_CORS_ORIGINS": origins,
                "FIELDGATE_DATABASE_URL": "sqlite+aiosqlite:///:memory:",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "FIELDGATE_CORS_ORIGINS" in lines[0], done.stderr
