"""Signing keys, token issue and verification, and the authentication backend."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from starlette.applications import Starlette
from starlette.authentication import AuthenticationError
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fieldgate.authz.principal import ANONYMOUS, Principal, PrincipalKind
from fieldgate.errors import BadUserInput, ConfigurationError, Unauthenticated
from fieldgate.http.auth import (
    AuthenticatedUser,
    TokenAuthBackend,
    authentication_error_response,
    bearer_token,
)
from fieldgate.identity.issuance import parse_ttl
from fieldgate.identity.signing_key import SigningKey, key_id, load_signing_key, read_signing_key
from fieldgate.identity.tokens import TokenGrant, TokenService
from fieldgate.settings import Settings
from tests.fakes import InMemoryRevocations

ISSUER = "fieldgate"
AUDIENCE = "fieldgate-api"
NOW = datetime(2030, 5, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="module")
def service(key: SigningKey) -> TokenService:
    return TokenService(key, ISSUER, AUDIENCE)


def issue_partner(service: TokenService, **overrides: Any) -> TokenGrant:
    arguments: dict[str, Any] = {
        "subject": "partner:7",
        "kind": "partner",
        "name": "sf-express",
        "roles": ["logistics"],
        "scopes": ["Order.buyerPhone"],
        "purposes": ["DELIVERY"],
        "ttl": timedelta(hours=1),
        "strict": True,
        "region": "CN",
        "now": NOW,
    }
    arguments.update(overrides)
    return service.issue(**arguments)


def valid_claims(**overrides: Any) -> dict[str, Any]:
    timestamp = int(NOW.timestamp())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user:1",
        "iat": timestamp,
        "nbf": timestamp,
        "exp": timestamp + 3600,
        "jti": "0" * 32,
        "kind": "user",
        "name": "alice",
        "roles": ["user"],
        "scopes": [],
        "purposes": [],
        "strict": False,
    }
    claims.update(overrides)
    return claims


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def hand_made(
    header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]
) -> str:
    signing_input = (
        b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    ).encode()
    return signing_input.decode() + "." + b64url(sign(signing_input))


def reason_of(service: TokenService, token: str, now: datetime = NOW) -> str:
    with pytest.raises(Unauthenticated) as caught:
        service.verify(token, now=now)
    return caught.value.reason


# --- keys -------------------------------------------------------------------------------


def test_kid_is_sha256_prefix_of_raw_public_key(key: SigningKey) -> None:
    raw = key.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert key.kid == hashlib.sha256(raw).hexdigest()[:16] == key_id(key.public_key)


def test_development_key_is_generated_private_and_reused(tmp_path: Path) -> None:
    key_dir = tmp_path / "var" / "keys"
    settings = Settings(env="development", key_dir=key_dir, signing_key_file=None)

    first = load_signing_key(settings)
    second = load_signing_key(settings)

    path = key_dir / "signing.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    assert first.kid == second.kid
    assert sorted(p.name for p in key_dir.iterdir()) == ["signing.pem"]


def test_existing_development_key_is_never_replaced(tmp_path: Path) -> None:
    existing = SigningKey.generate()
    path = tmp_path / "signing.pem"
    path.write_bytes(
        existing.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    settings = Settings(env="development", key_dir=tmp_path, signing_key_file=None)

    assert load_signing_key(settings).kid == existing.kid


def test_concurrent_first_runs_agree_on_one_key(tmp_path: Path) -> None:
    settings = Settings(env="development", key_dir=tmp_path / "keys", signing_key_file=None)
    with ThreadPoolExecutor(max_workers=8) as pool:
        kids = set(pool.map(lambda _: load_signing_key(settings).kid, range(16)))
    assert len(kids) == 1
    assert [p.name for p in (tmp_path / "keys").iterdir()] == ["signing.pem"]


def test_configured_key_file_is_read(tmp_path: Path, key: SigningKey) -> None:
    path = tmp_path / "configured.pem"
    path.write_bytes(
        key.private_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    settings = Settings(env="production", signing_key_file=path, key_dir=tmp_path / "unused")

    assert load_signing_key(settings).kid == key.kid
    assert not (tmp_path / "unused").exists()


def test_production_without_key_file_is_refused(tmp_path: Path) -> None:
    settings = Settings(env="production", signing_key_file=None, key_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="FIELDGATE_SIGNING_KEY_FILE is required"):
        load_signing_key(settings)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "content",
    [
        None,
        b"",
        b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWJ1dC1ub3QtYS1rZXk=\n-----END PRIVATE KEY-----\n",
        generate_private_key(SECP256R1()).private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
        ),
    ],
    ids=["missing", "empty", "garbage", "not-ed25519"],
)
def test_bad_key_file_is_refused_naming_the_file(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "broken.pem"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigurationError) as caught:
        read_signing_key(path)
    message = str(caught.value)
    assert str(path) in message
    assert "PRIVATE KEY" not in message and "c2VjcmV0" not in message


def test_unreadable_key_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        read_signing_key(tmp_path)  # a directory: exists, cannot be read as a file


# --- issue and verify -------------------------------------------------------------------


def test_round_trip_partner(service: TokenService, key: SigningKey) -> None:
    grant = issue_partner(service)

    principal = service.verify(grant.token, now=NOW + timedelta(minutes=5))

    assert principal == Principal(
        kind=PrincipalKind.PARTNER,
        id=7,
        name="sf-express",
        roles=frozenset({"logistics"}),
        scopes=frozenset({"Order.buyerPhone"}),
        purposes=frozenset({"DELIVERY"}),
        strict=True,
        token_id=grant.jti,
        partner_region="CN",
    )
    assert grant.issued_at == NOW
    assert grant.expires_at == NOW + timedelta(hours=1)
    assert len(grant.jti) == 32 and int(grant.jti, 16) >= 0
    assert jwt.get_unverified_header(grant.token) == {"alg": "EdDSA", "kid": key.kid, "typ": "JWT"}


def test_round_trip_staff_has_no_region(service: TokenService) -> None:
    grant = service.issue(
        subject="staff:3",
        kind="staff",
        name="support1",
        roles=["support_agent"],
        ttl=timedelta(minutes=30),
        now=NOW,
    )
    claims = jwt.decode(grant.token, options={"verify_signature": False})
    principal = service.verify(grant.token, now=NOW)

    assert "region" not in claims
    assert {claims["iat"], claims["nbf"], claims["exp"] - 1800} == {int(NOW.timestamp())}
    assert principal.staff_id == 3
    assert principal.roles == frozenset({"support_agent"})
    assert principal.partner_region is None and not principal.strict


def test_each_token_has_its_own_jti(service: TokenService) -> None:
    assert issue_partner(service).jti != issue_partner(service).jti


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": "partner:x"},
        {"subject": "user:7"},
        {"kind": "anonymous", "subject": "anonymous:1"},
        {"kind": "staff", "subject": "staff:7"},  # a region on a staff token
        {"ttl": timedelta(0)},
    ],
)
def test_issue_refuses_inconsistent_requests(
    service: TokenService, overrides: dict[str, Any]
) -> None:
    with pytest.raises(BadUserInput):
        issue_partner(service, **overrides)


def test_expired(service: TokenService) -> None:
    grant = issue_partner(service)
    assert reason_of(service, grant.token, NOW + timedelta(hours=1)) == "expired"
    assert reason_of(service, grant.token, NOW + timedelta(days=3)) == "expired"


def test_expiry_uses_the_wall_clock_by_default(service: TokenService) -> None:
    grant = issue_partner(service, now=datetime.now(UTC) - timedelta(hours=2))
    with pytest.raises(Unauthenticated) as caught:
        service.verify(grant.token)
    assert caught.value.reason == "expired"
    fresh = issue_partner(service, now=None)
    assert service.verify(fresh.token).token_id == fresh.jti


def test_not_yet_valid(service: TokenService) -> None:
    grant = issue_partner(service, now=NOW + timedelta(minutes=10))
    assert reason_of(service, grant.token, NOW) == "not_yet_valid"


def test_leeway_tolerates_small_clock_skew(key: SigningKey) -> None:
    lenient = TokenService(key, ISSUER, AUDIENCE, leeway=30)
    early = issue_partner(lenient, now=NOW + timedelta(seconds=20))
    late = issue_partner(lenient, ttl=timedelta(seconds=60))

    assert lenient.verify(early.token, now=NOW).token_id == early.jti
    assert lenient.verify(late.token, now=NOW + timedelta(seconds=80)).token_id == late.jti
    assert reason_of(lenient, late.token, NOW + timedelta(seconds=91)) == "expired"


def test_signature_of_another_key_under_our_kid(service: TokenService, key: SigningKey) -> None:
    intruder = SigningKey.generate()
    token = jwt.encode(
        valid_claims(), intruder.private_key, algorithm="EdDSA", headers={"kid": key.kid}
    )
    assert reason_of(service, token) == "bad_signature"


def test_tampered_payload(service: TokenService) -> None:
    header, _, signature = issue_partner(service).token.split(".")
    forged = b64url(json.dumps(valid_claims(roles=["admin"])).encode())
    assert reason_of(service, f"{header}.{forged}.{signature}") == "bad_signature"


def test_unknown_kid(service: TokenService) -> None:
    stranger = TokenService(SigningKey.generate(), ISSUER, AUDIENCE)
    assert reason_of(service, issue_partner(stranger).token) == "unknown_key"


def test_rotation_keeps_old_tokens_valid(key: SigningKey) -> None:
    old = TokenService(key, ISSUER, AUDIENCE)
    new_key = SigningKey.generate()
    rotated = TokenService(new_key, ISSUER, AUDIENCE, verification_keys={key.kid: key.public_key})
    old_grant, new_grant = issue_partner(old), issue_partner(rotated)

    assert rotated.verify(old_grant.token, now=NOW).token_id == old_grant.jti
    assert rotated.verify(new_grant.token, now=NOW).token_id == new_grant.jti
    assert reason_of(old, new_grant.token) == "unknown_key"


def test_wrong_audience(key: SigningKey, service: TokenService) -> None:
    other = TokenService(key, ISSUER, "another-api")
    assert reason_of(service, issue_partner(other).token) == "wrong_audience"


def test_audience_list_is_refused(key: SigningKey, service: TokenService) -> None:
    token = jwt.encode(
        valid_claims(aud=[AUDIENCE, "x"]), key.private_key, "EdDSA", headers={"kid": key.kid}
    )
    assert reason_of(service, token) == "wrong_audience"


def test_wrong_issuer(key: SigningKey, service: TokenService) -> None:
    other = TokenService(key, "someone-else", AUDIENCE)
    assert reason_of(service, issue_partner(other).token) == "wrong_issuer"


@pytest.mark.parametrize(
    "garbage",
    ["", "garbage", "a.b.c", "...", "eyJhbGciOiJFZERTQSJ9.e30", "eyJ9.eyJ9.eyJ9", "é.é.é"],
)
def test_garbage_is_malformed(service: TokenService, garbage: str) -> None:
    assert reason_of(service, garbage) == "malformed"


def test_alg_none_is_refused(service: TokenService, key: SigningKey) -> None:
    header = {"alg": "none", "typ": "JWT", "kid": key.kid}
    token = hand_made(header, valid_claims(), lambda _: b"")
    assert reason_of(service, token) == "unsupported_algorithm"
    assert reason_of(service, token.rstrip(".") + ".") == "unsupported_algorithm"


@pytest.mark.parametrize("public_format", ["pem", "raw"])
def test_hs256_signed_with_the_public_key_is_refused(
    service: TokenService, key: SigningKey, public_format: str
) -> None:
    if public_format == "pem":
        secret = key.public_key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    else:
        secret = key.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    token = hand_made(header, valid_claims(), lambda data: hmac.digest(secret, data, "sha256"))
    assert reason_of(service, token) == "unsupported_algorithm"


def test_missing_kid_is_malformed(service: TokenService, key: SigningKey) -> None:
    token = jwt.encode(valid_claims(), key.private_key, algorithm="EdDSA")
    assert reason_of(service, token) == "malformed"


@pytest.mark.parametrize(
    "claim",
    [
        *("iss", "aud", "sub", "iat", "nbf", "exp", "jti"),
        *("kind", "name", "roles", "scopes", "purposes", "strict"),
    ],
)
def test_missing_claim_is_malformed(service: TokenService, key: SigningKey, claim: str) -> None:
    claims = valid_claims()
    del claims[claim]
    token = jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    assert reason_of(service, token) == "malformed"


@pytest.mark.parametrize(
    "overrides",
    [
        {"sub": "user:abc"},
        {"sub": "user:0"},
        {"sub": "staff:1"},  # kind says user
        {"kind": "anonymous", "sub": "anonymous:1"},
        {"kind": "root"},
        {"roles": "user"},
        {"roles": ["user", 1]},
        {"strict": "yes"},
        {"exp": "tomorrow"},
        {"exp": True},
        {"region": "CN"},  # only partners carry a region
        {"name": None},
    ],
)
def test_claims_of_the_wrong_shape_are_malformed(
    service: TokenService, key: SigningKey, overrides: dict[str, Any]
) -> None:
    token = jwt.encode(
        valid_claims(**overrides), key.private_key, algorithm="EdDSA", headers={"kid": key.kid}
    )
    assert reason_of(service, token) == "malformed"


def test_hand_made_valid_token_passes(service: TokenService, key: SigningKey) -> None:
    """The control for the tests above: the same claims, intact, are accepted."""
    token = jwt.encode(valid_claims(), key.private_key, algorithm="EdDSA", headers={"kid": key.kid})
    assert service.verify(token, now=NOW).user_id == 1


# --- the authentication backend ---------------------------------------------------------


async def whoami(request: Request) -> JSONResponse:
    user = request.user
    assert isinstance(user, AuthenticatedUser)
    principal = user.principal
    return JSONResponse({"identity": principal.identity, "scopes": request.auth.scopes})


def make_app(service: TokenService, revocations: InMemoryRevocations) -> Starlette:
    backend = TokenAuthBackend(service, revocations)
    return Starlette(
        routes=[Route("/whoami", whoami)],
        middleware=[
            Middleware(
                AuthenticationMiddleware, backend=backend, on_error=authentication_error_response
            )
        ],
    )


@pytest.fixture
def revocations() -> InMemoryRevocations:
    return InMemoryRevocations()


@pytest.fixture
async def client(service: TokenService, revocations: InMemoryRevocations) -> Any:
    transport = httpx.ASGITransport(app=make_app(service, revocations))
    async with httpx.AsyncClient(transport=transport, base_url="http://fieldgate") as http:
        yield http


def live_token(service: TokenService) -> TokenGrant:
    return issue_partner(service, now=None)


async def test_no_header_is_anonymous(client: httpx.AsyncClient) -> None:
    response = await client.get("/whoami")
    assert response.status_code == 200
    assert response.json() == {"identity": "anonymous", "scopes": []}


async def test_valid_token_yields_its_principal(
    client: httpx.AsyncClient, service: TokenService
) -> None:
    grant = live_token(service)
    response = await client.get("/whoami", headers={"Authorization": f"Bearer {grant.token}"})
    assert response.status_code == 200
    assert response.json() == {"identity": "partner:7", "scopes": ["logistics"]}


async def test_bearer_scheme_is_case_insensitive(
    client: httpx.AsyncClient, service: TokenService
) -> None:
    grant = live_token(service)
    response = await client.get("/whoami", headers={"Authorization": f"bearer {grant.token}"})
    assert response.status_code == 200


@pytest.mark.parametrize("header", ["", "Bearer", "Basic dXNlcjpwYXNz", "Bearer a b", "Token x"])
async def test_malformed_header_is_refused(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/whoami", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] == "malformed"


async def test_revoked_token_is_refused(
    client: httpx.AsyncClient, service: TokenService, revocations: InMemoryRevocations
) -> None:
    grant = live_token(service)
    headers = {"Authorization": f"Bearer {grant.token}"}
    assert (await client.get("/whoami", headers=headers)).status_code == 200

    revocations.revoke(grant.jti)
    response = await client.get("/whoami", headers=headers)

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["reason"] == "revoked"


async def test_refusal_body_and_header(client: httpx.AsyncClient, service: TokenService) -> None:
    token = issue_partner(service).token  # issued in 2030: not yet valid
    response = await client.get("/whoami", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "data": None,
        "errors": [
            {
                "message": "authentication failed",
                "extensions": {"code": "UNAUTHENTICATED", "reason": "not_yet_valid"},
            }
        ],
    }
    assert token not in response.text
    assert "Traceback" not in response.text


async def test_refusal_speaks_graphql_response_when_asked(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/whoami",
        headers={
            "Authorization": "Bearer nope",
            "Accept": "application/graphql-response+json, application/json;q=0.9",
        },
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/graphql-response+json"
    assert response.json()["errors"][0]["extensions"]["reason"] == "malformed"


def test_foreign_authentication_error_has_a_listed_reason() -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    response = authentication_error_response(request, AuthenticationError("boom"))
    assert response.status_code == 401
    assert b'"reason":"malformed"' in response.body
    assert b"boom" not in response.body


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("  BEARER   abc ") == "abc"
    assert bearer_token("Bearer") is None
    assert bearer_token("Basic abc") is None


async def test_backend_returns_anonymous_principal_object(
    service: TokenService, revocations: InMemoryRevocations
) -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})
    credentials, user = await TokenAuthBackend(service, revocations).authenticate(request)
    assert user.principal is ANONYMOUS
    assert credentials.scopes == []


# --- lifetimes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("7d", timedelta(days=7)),
        (" 2h ", timedelta(hours=2)),
        ("365d", timedelta(days=365)),
    ],
)
def test_parse_ttl(text: str, expected: timedelta) -> None:
    assert parse_ttl(text) == expected


@pytest.mark.parametrize(
    "text", ["", "1", "h", "1x", "-1h", "0s", "1.5h", "1 h", "1H", "366d", "99999999999d", "1h30m"]
)
def test_parse_ttl_refuses_bad_lifetimes(text: str) -> None:
    with pytest.raises(BadUserInput):
        parse_ttl(text)
