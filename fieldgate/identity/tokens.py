"""Signed access tokens: EdDSA (Ed25519) JWTs carrying who the principal is.

The algorithm is pinned: a token whose header names anything but ``EdDSA`` (``none``,
``HS256`` signed with the public key, …) is refused before any key is touched.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.errors import BadUserInput, Unauthenticated
from fieldgate.identity.signing_key import SigningKey

ALGORITHM = "EdDSA"
TOKEN_KINDS = frozenset({PrincipalKind.USER, PrincipalKind.STAFF, PrincipalKind.PARTNER})
REQUIRED_CLAIMS = (
    "iss",
    "aud",
    "sub",
    "iat",
    "nbf",
    "exp",
    "jti",
    "kind",
    "name",
    "roles",
    "scopes",
    "purposes",
    "strict",
)
_SUBJECT = re.compile(r"(user|staff|partner):([1-9][0-9]{0,18})")

# Most specific first: several PyJWT errors subclass DecodeError.
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.InvalidSignatureError, "bad_signature"),
    (jwt.InvalidAlgorithmError, "unsupported_algorithm"),
    (jwt.InvalidAudienceError, "wrong_audience"),
    (jwt.InvalidIssuerError, "wrong_issuer"),
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
)


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """A freshly signed token and what is recorded about it."""

    token: str
    jti: str
    issued_at: datetime
    expires_at: datetime


def subject_of(kind: PrincipalKind | str, principal_id: int) -> str:
    """The ``sub`` claim of a principal: ``user:ID``, ``staff:ID`` or ``partner:ID``."""
    return f"{PrincipalKind(kind)}:{principal_id}"


class TokenService:
    """Issues and verifies tokens with one signing key and any number of verification keys.

    ``verification_keys`` (by ``kid``) let tokens signed by a previous key stay valid
    during a rotation; the signing key itself is always among them.
    """

    def __init__(
        self,
        key: SigningKey,
        issuer: str,
        audience: str,
        *,
        verification_keys: Mapping[str, Ed25519PublicKey] | None = None,
        leeway: int = 0,
    ) -> None:
        if leeway < 0:
            raise ValueError("leeway must not be negative")
        self._key = key
        self._issuer = issuer
        self._audience = audience
        self._leeway = leeway
        self._verification_keys: dict[str, Ed25519PublicKey] = dict(verification_keys or {})
        self._verification_keys[key.kid] = key.public_key

    @property
    def kid(self) -> str:
        """The ``kid`` put in the header of every token this service signs."""
        return self._key.kid

    def issue(
        self,
        *,
        subject: str,
        kind: str,
        name: str,
        roles: Sequence[str],
        scopes: Sequence[str] = (),
        purposes: Sequence[str] = (),
        ttl: timedelta,
        strict: bool = False,
        region: str | None = None,
        now: datetime | None = None,
    ) -> TokenGrant:
        """Sign a token for ``subject`` (``kind:ID``) valid from ``now`` for ``ttl``.

        ``region`` is only meaningful for partners and is left out of other tokens.
        """
        principal_kind = _kind(kind)
        if principal_kind is None or _parse_subject(subject, principal_kind) is None:
            raise BadUserInput("subject must be user:ID, staff:ID or partner:ID of its kind")
        if region is not None and principal_kind is not PrincipalKind.PARTNER:
            raise BadUserInput("only partner tokens carry a region")
        if ttl <= timedelta(0):
            raise BadUserInput("token lifetime must be positive")
        issued_at = _utc(now).replace(microsecond=0)  # JWT times are whole seconds
        expires_at = issued_at + timedelta(seconds=max(1, int(ttl.total_seconds())))
        jti = uuid.uuid4().hex
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": subject,
            "iat": int(issued_at.timestamp()),
            "nbf": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
            "jti": jti,
            "kind": str(principal_kind),
            "name": name,
            "roles": sorted(set(roles)),
            "scopes": sorted(set(scopes)),
            "purposes": sorted(set(purposes)),
            "strict": strict,
        }
        if region is not None:
            claims["region"] = region
        token = jwt.encode(
            claims,
            self._key.private_key,
            algorithm=ALGORITHM,
            headers={"kid": self._key.kid, "typ": "JWT"},
        )
        return TokenGrant(token=token, jti=jti, issued_at=issued_at, expires_at=expires_at)

    def verify(self, token: str, *, now: datetime | None = None) -> Principal:
        """The principal a token names; raises ``Unauthenticated(reason)`` on any failure.

        Revocation is not checked here (it needs the database): see ``fieldgate.http.auth``.
        """
        public_key = self._key_for(token)
        try:
            claims = jwt.decode(
                token,
                public_key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                # times are checked below against ``now``, so that tests can move the clock
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "strict_aud": True,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(_reason(exc)) from None
        self._check_times(claims, _utc(now))
        return _principal(claims)

    def _key_for(self, token: str) -> Ed25519PublicKey:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthenticated("malformed") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated("unsupported_algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthenticated("malformed")
        public_key = self._verification_keys.get(kid)
        if public_key is None:
            raise Unauthenticated("unknown_key")
        return public_key

    def _check_times(self, claims: Mapping[str, Any], now: datetime) -> None:
        issued_at, not_before, expires = (
            _timestamp(claims, name) for name in ("iat", "nbf", "exp")
        )
        moment = now.timestamp()
        if expires <= moment - self._leeway:
            raise Unauthenticated("expired")
        if not_before > moment + self._leeway or issued_at > moment + self._leeway:
            raise Unauthenticated("not_yet_valid")


def _principal(claims: Mapping[str, Any]) -> Principal:
    """Build the principal from verified claims, refusing any claim of the wrong shape."""
    kind = _kind(claims["kind"])
    if kind is None:
        raise Unauthenticated("malformed")
    principal_id = _parse_subject(claims["sub"], kind)
    name, strict, region = claims["name"], claims["strict"], claims.get("region")
    if (
        principal_id is None
        or not isinstance(claims["jti"], str)
        or not isinstance(name, str)
        or not isinstance(strict, bool)
        or not (region is None or (isinstance(region, str) and kind is PrincipalKind.PARTNER))
    ):
        raise Unauthenticated("malformed")
    return Principal(
        kind=kind,
        id=principal_id,
        name=name,
        roles=_strings(claims["roles"]),
        scopes=_strings(claims["scopes"]),
        purposes=_strings(claims["purposes"]),
        strict=strict,
        token_id=claims["jti"],
        partner_region=region,
    )


def _kind(value: object) -> PrincipalKind | None:
    if not isinstance(value, str):
        return None
    try:
        kind = PrincipalKind(value)
    except ValueError:
        return None
    return kind if kind in TOKEN_KINDS else None


def _parse_subject(subject: object, kind: PrincipalKind) -> int | None:
    """The numeric id of ``kind:ID``; None when malformed or of another kind."""
    if not isinstance(subject, str):
        return None
    match = _SUBJECT.fullmatch(subject)
    if match is None or match.group(1) != kind:
        return None
    return int(match.group(2))


def _strings(value: object) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Unauthenticated("malformed")
    return frozenset(value)


def _timestamp(claims: Mapping[str, Any], name: str) -> int:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise Unauthenticated("malformed")
    return value


def _reason(exc: jwt.InvalidTokenError) -> str:
    for error_type, reason in _REASONS:
        if isinstance(exc, error_type):
            return reason
    return "malformed"


def _utc(moment: datetime | None) -> datetime:
    """``moment`` (naive means UTC) or the current time, as an aware UTC datetime."""
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
