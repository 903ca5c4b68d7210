"""The hash chain of the audit trail: canonical content, links, and the key that makes them.

``link = HMAC-SHA256(key, prev_link || canonical JSON of the event's columns but link)``,
hex. The first event's ``prev_link`` is 64 zeros. Editing, deleting, inserting or moving an
event breaks the chain at that event, and without the key nobody can mend it.

The key is a file of 64 hex digits (``FIELDGATE_AUDIT_KEY_FILE``; in development generated
with mode 0600 as ``<key_dir>/audit.key``; required in production).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from fieldgate.crypto.key_files import create_private_file
from fieldgate.errors import ConfigurationError
from fieldgate.settings import Settings

GENESIS = "0" * 64
DEVELOPMENT_KEY_NAME = "audit.key"
KEY_BYTES = 32
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64,128}")

# Every column of ``audit_events`` except ``link``, which is computed over them.
CHAINED_COLUMNS = (
    "seq",
    "at",
    "kind",
    "request_id",
    "principal_kind",
    "principal_id",
    "principal_roles",
    "partner_id",
    "purpose",
    "operation_name",
    "document_hash",
    "coordinate",
    "outcome",
    "reason",
    "subjects",
    "subject_count",
    "policy_version",
    "detail",
    "key_id",
    "prev_link",
)


@dataclass(frozen=True)
class AuditKey:
    """The chain's HMAC key and its public name (``key_id``, stored with every event)."""

    secret: bytes
    id: str

    @classmethod
    def from_secret(cls, secret: bytes) -> AuditKey:
        return cls(secret, hashlib.sha256(b"fieldgate audit key\0" + secret).hexdigest()[:16])

    @classmethod
    def generate(cls) -> AuditKey:
        """A fresh random key (tests)."""
        return cls.from_secret(secrets.token_bytes(KEY_BYTES))

    def __repr__(self) -> str:  # never show the secret
        return f"AuditKey(id={self.id!r})"


def utc_text(moment: datetime) -> str:
    """A stored time as text; SQLite hands times back naive, and every stored time is UTC."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"


def detail_text(detail: Mapping[str, Any]) -> str:
    """The ``detail`` column: canonical JSON of a mapping of non-value facts."""
    return orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode("utf-8")


def canonical(row: Mapping[str, Any]) -> bytes:
    """The chained columns of a stored row as canonical JSON: compact UTF-8, sorted keys,
    times as UTC text (``2024-05-01T08:30:00.000000Z``)."""
    content = {name: row[name] for name in CHAINED_COLUMNS}
    # an event whose subjects' rows another event of its batch holds says which one; an
    # event holding its own (every event stored before sharing existed) links as before
    holder = row.get("subjects_seq")
    if holder is not None and holder != row["seq"]:
        content["subjects_seq"] = holder
    at = content["at"]
    if isinstance(at, datetime):
        content["at"] = utc_text(at)
    return orjson.dumps(content, option=orjson.OPT_SORT_KEYS)


def link_of(key: AuditKey, row: Mapping[str, Any]) -> str:
    """The link of a row (which carries its ``prev_link``)."""
    message = str(row["prev_link"]).encode("utf-8") + canonical(row)
    return hmac.digest(key.secret, message, "sha256").hex()


def load_audit_key(settings: Settings, *, create: bool = True) -> AuditKey:
    """The audit key of this deployment.

    ``FIELDGATE_AUDIT_KEY_FILE`` when set; otherwise, in development only,
    ``<key_dir>/audit.key``, generated on first use when ``create``. Raises
    ``ConfigurationError`` naming the file (never its content) when it cannot be used.
    """
    if settings.audit_key_file is not None:
        return read_audit_key(settings.audit_key_file)
    if settings.is_production:
        raise ConfigurationError("FIELDGATE_AUDIT_KEY_FILE is required in production")
    path = settings.key_dir / DEVELOPMENT_KEY_NAME
    if create and not path.exists():
        _create_key_file(path)
    return read_audit_key(path)


def read_audit_key(path: Path) -> AuditKey:
    """Read a key file: 64 (up to 128) hex digits."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise ConfigurationError(f"audit key file {path} does not exist") from None
    except (OSError, UnicodeDecodeError):
        raise ConfigurationError(f"audit key file {path} cannot be read") from None
    if not _HEX_KEY.fullmatch(text) or len(text) % 2:
        raise ConfigurationError(f"audit key file {path} does not hold 32 to 64 bytes in hex")
    return AuditKey.from_secret(bytes.fromhex(text))


def _create_key_file(path: Path) -> None:
    """Write a new audit key at ``path``, keeping one another process wrote first."""
    content = (secrets.token_hex(KEY_BYTES) + "\n").encode("ascii")
    create_private_file(path, content, what="audit key file")
