"""Token cases beyond tests/e2e/test_authentication.py (expiry, signature, audience, issuer,
algorithm confusion and one revocation live there): a ``kid`` naming the wrong key versus
one naming no key, and a revoked token refused on every way into GraphQL."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest

from fieldgate.errors import Unauthenticated
from fieldgate.identity.issuance import revoke
from fieldgate.identity.signing_key import SigningKey
from fieldgate.identity.tokens import ALGORITHM, TokenService
from tests.gateway import Gateway
from tests.security.conftest import Variant

ME = "{ me { username } }"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def resigned(token: str, key: SigningKey, header: dict[str, Any]) -> str:
    """The same claims (a recorded, unrevoked ``jti``) signed by ``key`` under ``header``,
    written by hand: PyJWT would refuse to write some of these headers."""
    claims = jwt.decode(token, options={"verify_signature": False})
    header = {"alg": ALGORITHM, "typ": "JWT", **header}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(key.private_key.sign(signing_input.encode()))}"


async def refused_with(gateway: Gateway, token: str, reason: str) -> None:
    response = await gateway.post(ME, token=token)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"] == {
        "code": "UNAUTHENTICATED",
        "reason": reason,
    }


async def test_our_key_under_an_unknown_kid_is_refused(gateway: Gateway) -> None:
    """The ``kid`` picks the key; no other key is tried, not even the right one."""
    token = await gateway.token("alice")
    ours = gateway.services.tokens._key
    assert (await gateway.gql(ME, token=resigned(token, ours, {"kid": ours.kid})))["data"]
    await refused_with(gateway, resigned(token, ours, {"kid": "0" * 16}), "unknown_key")
    await refused_with(gateway, resigned(token, ours, {}), "malformed")
    await refused_with(gateway, resigned(token, ours, {"kid": 7}), "malformed")


def test_a_kid_naming_the_wrong_known_key_fails_its_signature() -> None:
    """During a rotation both keys verify; each only what it signed."""
    current, previous = SigningKey.generate(), SigningKey.generate()
    service = TokenService(
        current, "fieldgate", "fieldgate-api", verification_keys={previous.kid: previous.public_key}
    )
    old_service = TokenService(previous, "fieldgate", "fieldgate-api")
    grant = old_service.issue(
        subject="user:1", kind="user", name="alice", roles=["user"], ttl=timedelta(minutes=5)
    )
    assert service.verify(grant.token).name == "alice"  # the previous key, named: accepted
    for key, kid in ((current, previous.kid), (previous, current.kid)):
        with pytest.raises(Unauthenticated) as caught:
            service.verify(resigned(grant.token, key, {"kid": kid}))
        assert caught.value.reason == "bad_signature"
    with pytest.raises(Unauthenticated) as caught:
        service.verify(resigned(grant.token, current, {"kid": SigningKey.generate().kid}))
    assert caught.value.reason == "unknown_key"


async def test_a_revoked_token_is_refused_on_every_path(gateway: Gateway, variant: Variant) -> None:
    login = 'mutation { login(username: "bob", password: "fieldgate-demo") { token expiresAt } }'
    token = (await gateway.gql(login))["data"]["login"]["token"]
    bearer = {"authorization": f"Bearer {token}"}
    assert (await gateway.gql(ME, token=token))["data"]["me"]["username"] == "bob"
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    assert await revoke(gateway.services.engine, jti)
    batching = variant(max_batch=2)
    attempts = [
        await gateway.post(ME, token=token),
        await gateway.post(
            ME, token=token, headers={"accept": "application/graphql-response+json"}
        ),
        await gateway.client.get("/graphql", params={"query": ME}, headers=bearer),
        await gateway.post(
            'mutation { updateMyProfile(input: {nickname: "x"}) { id } }', token=token
        ),
        await gateway.post("{ __typename }", token=token),
        await batching.client.post("/graphql", json=[{"query": ME}, {"query": ME}], headers=bearer),
    ]
    for response in attempts:
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["reason"] == "revoked"
        assert token not in response.text


async def test_a_token_never_recorded_counts_as_revoked(gateway: Gateway) -> None:
    """Signed with the real key, but its ``jti`` was never issued: not a token we issued."""
    token = await gateway.token("alice")
    claims = jwt.decode(token, options={"verify_signature": False})
    claims["jti"] = "f" * 32
    key = gateway.services.tokens._key
    forged = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
    await refused_with(gateway, forged, "revoked")
