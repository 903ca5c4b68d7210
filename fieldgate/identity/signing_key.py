"""The Ed25519 key that signs tokens: loaded from a PEM file, or generated in development."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from fieldgate.crypto.key_files import create_private_file
from fieldgate.errors import ConfigurationError
from fieldgate.settings import Settings

DEVELOPMENT_KEY_NAME = "signing.pem"


def key_id(public_key: Ed25519PublicKey) -> str:
    """The ``kid`` of a public key: the first 16 hex digits of SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    """A private key, its public half, and the ``kid`` that names it in token headers."""

    private_key: Ed25519PrivateKey
    public_key: Ed25519PublicKey
    kid: str

    @classmethod
    def from_private_key(cls, private_key: Ed25519PrivateKey) -> SigningKey:
        """Wrap an existing private key, deriving its public half and ``kid``."""
        public_key = private_key.public_key()
        return cls(private_key=private_key, public_key=public_key, kid=key_id(public_key))

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh random key (tests, and the first development run)."""
        return cls.from_private_key(Ed25519PrivateKey.generate())


def load_signing_key(settings: Settings) -> SigningKey:
    """The signing key of this deployment.

    ``FIELDGATE_SIGNING_KEY_FILE`` (PEM, PKCS#8) when set; otherwise, in development only,
    ``<key_dir>/signing.pem``, generated on first use. Raises ``ConfigurationError``
    naming the file (never its content) when the key cannot be used.
    """
    if settings.signing_key_file is not None:
        return read_signing_key(settings.signing_key_file)
    if settings.is_production:
        raise ConfigurationError("FIELDGATE_SIGNING_KEY_FILE is required in production")
    path = settings.key_dir / DEVELOPMENT_KEY_NAME
    if not path.exists():
        _create_key_file(path)
    return read_signing_key(path)


def read_signing_key(path: Path) -> SigningKey:
    """Read an unencrypted PKCS#8 PEM Ed25519 private key."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigurationError(f"signing key file {path} does not exist") from None
    except OSError:
        raise ConfigurationError(f"signing key file {path} cannot be read") from None
    try:
        private_key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        # the parser's message could quote the file; say only which file
        raise ConfigurationError(
            f"signing key file {path} is not an unencrypted PEM private key"
        ) from None
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ConfigurationError(f"signing key file {path} does not hold an Ed25519 key")
    return SigningKey.from_private_key(private_key)


def _create_key_file(path: Path) -> None:
    """Generate an Ed25519 key as PEM at ``path``, keeping one another process wrote first."""
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    create_private_file(path, pem, what="signing key file")
