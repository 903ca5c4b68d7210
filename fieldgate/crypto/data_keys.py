"""The data key file: one JSON document holding the data keys, the blind-index key and
the pseudonym key of the current period.

::

    {"active": KID, "keys": {KID: base64 32 bytes, ...}, "index_key": base64 32 bytes,
     "retired": [KID, ...], "pseudonyms": {"period": KID, "key": base64 32 bytes}}

``pseudonyms`` is optional when read (key files written before it existed stay valid);
every file written from a reading keeps it.

It is read whole into an immutable :class:`DataKeys`, replaced whole through a private
temporary file, and created once, private from the first byte. Errors name the file and
the problem, never its content.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import re
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fieldgate.crypto.key_files import create_private_file
from fieldgate.errors import ConfigurationError
from fieldgate.settings import Settings

DEVELOPMENT_KEY_NAME = "data-keys.json"
KEY_BYTES = 32
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


@dataclass(frozen=True)
class DataKeys:
    """One consistent reading of the key file (replaced whole, never mutated).

    Key material is left out of ``repr``, so that no traceback or log line can show it.
    """

    active: str
    keys: Mapping[str, bytes] = field(repr=False)
    index_key: bytes = field(repr=False)
    retired: tuple[str, ...] = ()
    signature: tuple[int, int, int] | None = None  # (inode, size, mtime_ns) of the file read
    # the root of every recipient's pseudonym key, and the period it belongs to
    pseudonym_period: str | None = None
    pseudonym_root: bytes | None = field(default=None, repr=False)
    # key id -> (cipher, associated data): built once, not per value
    ciphers: Mapping[str, tuple[AESGCM, bytes]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        ciphers = {kid: (AESGCM(key), kid.encode("ascii")) for kid, key in self.keys.items()}
        object.__setattr__(self, "ciphers", ciphers)

    def document(self) -> dict[str, Any]:
        """The JSON document of the key file."""
        document: dict[str, Any] = {
            "active": self.active,
            "keys": {kid: _b64(key) for kid, key in self.keys.items()},
            "index_key": _b64(self.index_key),
            "retired": list(self.retired),
        }
        if self.pseudonym_period is not None and self.pseudonym_root is not None:
            document["pseudonyms"] = {
                "period": self.pseudonym_period,
                "key": _b64(self.pseudonym_root),
            }
        return document


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def new_key_id(taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A fresh random key id (8 hex digits) not in ``taken``."""
    while True:
        kid = secrets.token_hex(4)
        if kid not in taken:
            return kid


def fresh_keys() -> DataKeys:
    """One new data key, active, a new blind-index key and a new pseudonym key."""
    kid = new_key_id()
    return DataKeys(
        kid,
        {kid: AESGCM.generate_key(KEY_BYTES * 8)},
        secrets.token_bytes(KEY_BYTES),
        (),
        pseudonym_period=new_key_id(),
        pseudonym_root=secrets.token_bytes(KEY_BYTES),
    )


def file_signature(path: Path) -> tuple[int, int, int]:
    """(inode, size, mtime_ns) of ``path``: changes whenever the file is replaced."""
    status = path.stat()
    return (status.st_ino, status.st_size, status.st_mtime_ns)


def _decode_key(value: object) -> bytes:
    if not isinstance(value, str):
        raise ValueError
    key = base64.b64decode(value, validate=True)
    if len(key) != KEY_BYTES:
        raise ValueError
    return key


def read_keys(path: Path) -> DataKeys:
    """Parse a key file; the errors name the file and the problem, never its content."""
    try:
        with path.open("rb") as handle:
            status = os.fstat(handle.fileno())
            data = handle.read()
    except FileNotFoundError:
        raise ConfigurationError(f"data key file {path} does not exist") from None
    except OSError:
        raise ConfigurationError(f"data key file {path} cannot be read") from None
    invalid = ConfigurationError(
        f"data key file {path} is not a valid key file"
        ' ({"active", "keys", "index_key", "retired"} with 32-byte base64 keys)'
    )
    try:
        document = json.loads(data)
        if not isinstance(document, dict):
            raise ValueError
        raw_keys = document["keys"]
        if not isinstance(raw_keys, dict) or not raw_keys:
            raise ValueError
        keys = {str(kid): _decode_key(value) for kid, value in raw_keys.items()}
        active = document["active"]
        retired = document.get("retired", [])
        if not isinstance(retired, list) or not all(isinstance(r, str) for r in retired):
            raise ValueError
        index_key = _decode_key(document["index_key"])
        period, root = _pseudonyms(document.get("pseudonyms"))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise invalid from None
    named = [*keys, *retired, *([period] if period is not None else [])]
    if active not in keys or not all(KEY_ID.fullmatch(kid) for kid in named):
        raise invalid
    signature = (status.st_ino, status.st_size, status.st_mtime_ns)
    return DataKeys(active, keys, index_key, tuple(retired), signature, period, root)


def _pseudonyms(value: object) -> tuple[str | None, bytes | None]:
    """(period, key) of the ``pseudonyms`` entry; (None, None) in a file without one."""
    if value is None:
        return None, None
    if not isinstance(value, dict) or not isinstance(value.get("period"), str):
        raise ValueError
    return value["period"], _decode_key(value.get("key"))


def write_keys(path: Path, keys: DataKeys) -> None:
    """Replace ``path`` with ``keys``: a private temporary file, synced, renamed into place."""
    content = json.dumps(keys.document(), indent=2).encode("ascii") + b"\n"
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=".data-keys-", suffix=".tmp"
        )
        try:
            with os.fdopen(descriptor, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError:
        raise ConfigurationError(f"cannot write data key file {path}") from None


def create_key_file(path: Path) -> None:
    """Write a fresh key file at ``path``, keeping one another process wrote first."""
    content = json.dumps(fresh_keys().document(), indent=2).encode("ascii") + b"\n"
    create_private_file(path, content, what="data key file")


def data_key_path(settings: Settings) -> Path | None:
    """Where this deployment's data keys are: the configured file, or the development one."""
    if settings.data_key_file is not None:
        return settings.data_key_file
    if settings.is_production:
        return None
    return settings.key_dir / DEVELOPMENT_KEY_NAME
