"""Token failures over HTTP: 401, code UNAUTHENTICATED, a reason, never a trace or the token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from fieldgate.identity.issuance import revoke
from fieldgate.identity.signing_key import SigningKey
from fieldgate.identity.tokens import TokenService
from tests.gateway import Gateway

ME = "{ me { id username } }"


def b64(data: dict[str, object]) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims(gateway: Gateway) -> dict[str, object]:
    now = int(datetime.now(UTC).timestamp())
    settings = gateway.services.settings
    return {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": "user:1",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "f" * 32,
        "kind": "user",
        "name": "alice",
        "roles": ["user"],
        "scopes": [],
        "purposes": [],
        "strict": False,
    }


def service(gateway: Gateway, **overrides: object) -> TokenService:
    settings = gateway.services.settings
    key = overrides.pop("key", None)
    signing = key if isinstance(key, SigningKey) else gateway.services.tokens._key
    return TokenService(
        signing,
        str(overrides.get("issuer", settings.token_issuer)),
        str(overrides.get("audience", settings.token_audience)),
    )


def issue(svc: TokenService, **kw: object) -> str:
    return svc.issue(
        subject="user:1",
        kind="user",
        name="alice",
        roles=["user"],
        ttl=timedelta(minutes=5),
        **kw,  # type: ignore[arg-type]
    ).token


async def assert_refused(gateway: Gateway, token: str, reason: str) -> None:
    response = await gateway.post(ME, token=token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED", "reason": reason}
    assert token not in response.text
    assert "Traceback" not in response.text


async def test_a_valid_token_is_accepted(gateway: Gateway) -> None:
    payload = await gateway.gql(ME, as_="alice")
    assert payload["data"]["me"]["username"] == "alice"


async def test_expired(gateway: Gateway) -> None:
    past = datetime.now(UTC) - timedelta(hours=2)
    await assert_refused(gateway, issue(service(gateway), now=past), "expired")


async def test_not_yet_valid(gateway: Gateway) -> None:
    future = datetime.now(UTC) + timedelta(hours=2)
    await assert_refused(gateway, issue(service(gateway), now=future), "not_yet_valid")


async def test_bad_signature(gateway: Gateway) -> None:
    other = SigningKey.generate()
    forged = SigningKey(other.private_key, other.public_key, gateway.services.tokens.kid)
    await assert_refused(gateway, issue(service(gateway, key=forged)), "bad_signature")


async def test_unknown_key_id(gateway: Gateway) -> None:
    await assert_refused(gateway, issue(service(gateway, key=SigningKey.generate())), "unknown_key")


async def test_wrong_audience_and_issuer(gateway: Gateway) -> None:
    await assert_refused(gateway, issue(service(gateway, audience="elsewhere")), "wrong_audience")
    await assert_refused(gateway, issue(service(gateway, issuer="mallory")), "wrong_issuer")


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "Bearer", "x" * 5000])
async def test_malformed(gateway: Gateway, token: str) -> None:
    await assert_refused(gateway, token or ".", "malformed")


async def test_malformed_header(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/graphql", json={"query": ME}, headers={"authorization": "Basic YWxpY2U6eA=="}
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] == "malformed"


async def test_alg_none_is_refused(gateway: Gateway) -> None:
    header = {"alg": "none", "typ": "JWT", "kid": gateway.services.tokens.kid}
    token = f"{b64(header)}.{b64(claims(gateway))}."
    response = await gateway.post(ME, token=token)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_hs256_signed_with_the_public_key_is_refused(gateway: Gateway) -> None:
    public = gateway.services.tokens._key.public_key
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    for secret in (pem, raw):
        header = {"alg": "HS256", "typ": "JWT", "kid": gateway.services.tokens.kid}
        signing_input = f"{b64(header)}.{b64(claims(gateway))}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
        response = await gateway.post(ME, token=token)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_revoked(gateway: Gateway) -> None:
    token = await gateway.token("bob")
    assert (await gateway.gql(ME, token=token))["data"]["me"]["username"] == "bob"
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    assert await revoke(gateway.services.engine, jti)
    await assert_refused(gateway, token, "revoked")


async def test_login_mutation(gateway: Gateway) -> None:
    good = await gateway.gql(
        'mutation { login(username: "alice", password: "fieldgate-demo") { token expiresAt } }'
    )
    token = good["data"]["login"]["token"]
    assert (await gateway.gql(ME, token=token))["data"]["me"]["username"] == "alice"
    staff = await gateway.gql(
        'mutation { login(username: "support1", password: "fieldgate-demo") { token expiresAt } }'
    )
    assert staff["data"]["login"]
    bad = await gateway.gql('mutation { login(username: "alice", password: "wrong") { token } }')
    assert bad["data"] == {"login": None}  # a failed mutation nulls its own field
    assert bad["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert bad["errors"][0]["extensions"]["reason"] == "invalid_credentials"
    nobody = await gateway.gql(
        'mutation { login(username: "nobody", password: "wrong") { token } }'
    )
    assert nobody["errors"][0]["message"] == bad["errors"][0]["message"]
