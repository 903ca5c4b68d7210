"""The data keyring: AES-256-GCM keys for columns stored encrypted, the blind-index key
and the pseudonym key of the current period (recipients' keys: :mod:`fieldgate.crypto.pseudonyms`).

A sealed value is text: ``enc:v1:<key id>:<base64url(nonce + ciphertext)>``; the key id is
also the associated data, so a value cannot be moved under another key's name. Keys live
in one JSON file (``FIELDGATE_DATA_KEY_FILE``, in development generated under
``<key_dir>/data-keys.json``; its format is :mod:`fieldgate.crypto.data_keys`).

Every key in ``keys`` opens values; only ``active`` seals new ones. A running process
re-reads the file when it meets a key id it does not know, and before sealing when the
file changed, so a rotation done elsewhere reaches it without a restart. Neither keys nor
plaintext are ever logged or put into an error message.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fieldgate.crypto.data_keys import (
    KEY_BYTES,
    KEY_ID,
    DataKeys,
    create_key_file,
    data_key_path,
    file_signature,
    fresh_keys,
    new_key_id,
    read_keys,
    write_keys,
)
from fieldgate.errors import ConfigurationError, DecryptionFailed
from fieldgate.settings import Settings

log = structlog.get_logger("fieldgate.keyring")

PREFIX = "enc:v1:"
NONCE_BYTES = 12

_BYTES_PREFIX = PREFIX.encode("ascii")


class Keyring:
    """Seals and opens values of encrypted columns; computes the blind index of ID numbers.

    Build it with :func:`load_keyring` (from the settings), :meth:`load` (a key file) or
    :meth:`generate` (in memory, for tests). Safe to share between tasks and threads: the
    keys are swapped as one immutable snapshot.
    """

    def __init__(self, keys: DataKeys, path: Path | None = None) -> None:
        self._keys = keys
        self.path = path

    # -- construction -------------------------------------------------------------------
    @classmethod
    def generate(cls) -> Keyring:
        """A keyring with one fresh data key and a fresh index key, kept in memory only."""
        return cls(fresh_keys())

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """The keyring of a key file; ``ConfigurationError`` naming the file when unusable."""
        return cls(read_keys(path), path)

    # -- what it holds ------------------------------------------------------------------
    @property
    def active_key_id(self) -> str:
        """The key id new values are sealed with."""
        return self._keys.active

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id whose values can be opened, the active one included."""
        return tuple(self._keys.keys)

    @property
    def retired_key_ids(self) -> tuple[str, ...]:
        """Key ids retired for good: their key material is gone."""
        return self._keys.retired

    # -- sealing and opening ------------------------------------------------------------
    def encrypt(self, plaintext: str) -> str:
        """Seal a text value with the active key (a new random nonce every time)."""
        return self._seal(plaintext.encode("utf-8"))

    def encrypt_bytes(self, data: bytes) -> bytes:
        """Seal binary data (face templates): the same text form, UTF-8 encoded."""
        return self._seal(data).encode("ascii")

    def decrypt(self, token: str) -> str:
        """Open a sealed text value; ``DecryptionFailed`` when it is not one this ring opens."""
        if not isinstance(token, str):
            raise DecryptionFailed("a stored value is not a sealed value")
        try:
            return self._open(token).decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionFailed("a stored value is not sealed text") from None

    def decrypt_bytes(self, token: bytes) -> bytes:
        """Open a sealed binary value (as made by :meth:`encrypt_bytes`)."""
        if not isinstance(token, bytes | bytearray | memoryview):
            raise DecryptionFailed("a stored value is not a sealed value")
        try:
            text = bytes(token).decode("ascii")
        except UnicodeDecodeError:
            raise DecryptionFailed("a stored value is not a sealed value") from None
        return self._open(text)

    @staticmethod
    def is_encrypted(value: object) -> bool:
        """Whether ``value`` (text or bytes) has the sealed form; says nothing of its key."""
        if isinstance(value, str):
            return value.startswith(PREFIX)
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value[: len(_BYTES_PREFIX)]) == _BYTES_PREFIX
        return False

    @staticmethod
    def key_id_of(token: str | bytes) -> str:
        """The key id a sealed value names; ``DecryptionFailed`` when it is not sealed."""
        if isinstance(token, bytes | bytearray | memoryview):
            try:
                token = bytes(token).decode("ascii")
            except UnicodeDecodeError:
                raise DecryptionFailed("a stored value is not a sealed value") from None
        return _split(token)[0]

    def blind_index(self, id_number: str) -> str:
        """The keyed HMAC-SHA256 (hex) of a normalised ID number, for exact lookups.

        Normalised: whitespace removed, a final ``x`` upper-cased; the same number written
        either way has the same index, and without the index key nobody can compute it.
        """
        normalised = "".join(id_number.split()).upper()
        digest = hmac.new(self._keys.index_key, normalised.encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()

    @property
    def pseudonym_root(self) -> tuple[str, bytes] | None:
        """(period, key) every recipient's pseudonym key is derived from; ``None`` when the
        key file holds none yet (see :meth:`rotate_pseudonyms`)."""
        keys = self._keys
        if keys.pseudonym_period is None or keys.pseudonym_root is None:
            return None
        return keys.pseudonym_period, keys.pseudonym_root

    # -- the key file -------------------------------------------------------------------
    def reload(self) -> None:
        """Re-read the key file (no-op for an in-memory keyring)."""
        if self.path is not None:
            self._keys = read_keys(self.path)

    def refresh(self) -> bool:
        """Re-read the key file if it changed since it was read; whether it did."""
        if self.path is None:
            return False
        try:
            signature = file_signature(self.path)
        except OSError:
            return False  # keep the keys in memory; reading the file would fail the same way
        if signature == self._keys.signature:
            return False
        try:
            self.reload()
        except ConfigurationError as exc:
            # a broken edit of the file must not stop a running gateway: keep the keys held
            log.warning("data_key_file_not_reloaded", problem=str(exc))
            return False
        return True

    def add_active_key(self) -> str:
        """Make a new random key the active one and return its id; the old keys stay.

        With a key file, the change is made under a lock on the file as it is now (not as
        this process last read it) and written atomically.
        """
        with self._updating() as keys:
            kid = new_key_id(set(keys.keys) | set(keys.retired))
            material = {**keys.keys, kid: AESGCM.generate_key(KEY_BYTES * 8)}
            self._store(replace(keys, active=kid, keys=material))
        return kid

    def rotate_pseudonyms(self) -> str:
        """Start a new pseudonym period with a new random key and return its id.

        The old period's key is dropped: pseudonyms issued under it no longer resolve.
        """
        with self._updating() as keys:
            period = new_key_id({keys.pseudonym_period or ""})
            root = secrets.token_bytes(KEY_BYTES)
            self._store(replace(keys, pseudonym_period=period, pseudonym_root=root))
        return period

    def retire(self, kid: str) -> None:
        """Drop the key material of ``kid`` and list it as retired.

        Refuses the active key and unknown ids (``ValueError``). Whether any stored value
        still uses the key is the caller's check (see ``fieldgate.crypto.rotation``).
        """
        with self._updating() as keys:
            if kid == keys.active:
                raise ValueError("the active key cannot be retired")
            if kid not in keys.keys:
                raise ValueError("no such key")
            remaining = {k: v for k, v in keys.keys.items() if k != kid}
            self._store(replace(keys, keys=remaining, retired=(*keys.retired, kid)))

    @contextlib.contextmanager
    def _updating(self) -> Iterator[DataKeys]:
        if self.path is None:
            yield self._keys
            return
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        try:
            descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            raise ConfigurationError(f"cannot lock data key file {self.path}") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            self._keys = read_keys(self.path)
            yield self._keys
        finally:
            os.close(descriptor)  # closing releases the lock

    def _store(self, keys: DataKeys) -> None:
        if self.path is None:
            self._keys = keys
            return
        write_keys(self.path, keys)
        self._keys = read_keys(self.path)

    # -- internals ----------------------------------------------------------------------
    def _seal(self, plaintext: bytes) -> str:
        self.refresh()  # a rotation elsewhere changes the key new values are sealed with
        keys = self._keys
        kid = keys.active
        cipher, associated = keys.ciphers[kid]
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = cipher.encrypt(nonce, plaintext, associated)
        body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
        return f"{PREFIX}{kid}:{body}"

    def _open(self, token: str) -> bytes:
        kid, raw = _split(token)
        known = self._keys.ciphers.get(kid)
        if known is None and self.path is not None:
            # perhaps a rotation elsewhere added it: read the file once more
            with contextlib.suppress(ConfigurationError):
                self.reload()
            known = self._keys.ciphers.get(kid)
        if known is None:
            raise DecryptionFailed("a stored value names a data key this keyring does not hold")
        cipher, associated = known
        try:
            return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated)
        except InvalidTag:
            raise DecryptionFailed("a stored value failed its integrity check") from None


def _split(token: str) -> tuple[str, bytes]:
    """(key id, nonce + ciphertext) of a sealed value."""
    if not token.startswith(PREFIX):
        raise DecryptionFailed("a stored value is not a sealed value")
    kid, separator, body = token[len(PREFIX) :].partition(":")
    if not separator or not KEY_ID.fullmatch(kid):
        raise DecryptionFailed("a stored value is not a sealed value")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise DecryptionFailed("a stored value is not a sealed value") from None
    if len(raw) < NONCE_BYTES + 16:  # nonce and GCM tag at least
        raise DecryptionFailed("a stored value is not a sealed value")
    return kid, raw


def load_keyring(settings: Settings) -> Keyring:
    """The data keyring of this deployment.

    ``FIELDGATE_DATA_KEY_FILE`` when set; otherwise, in development only,
    ``<key_dir>/data-keys.json``, generated on first use (0600, in a 0700 folder). A
    development key file without a pseudonym key is given one; in production the key file
    must hold it before the gateway serves (``fieldgate keys rotate --pseudonyms`` adds
    one); everything else keeps working with such a file.
    Raises ``ConfigurationError`` naming the file (never its content) when the keys
    cannot be used, and in production when no key file is configured.
    """
    path = data_key_path(settings)
    if path is None:
        raise ConfigurationError("FIELDGATE_DATA_KEY_FILE is required in production")
    if settings.data_key_file is None and not path.exists():
        create_key_file(path)
    keyring = Keyring.load(path)
    if keyring.pseudonym_root is None and not settings.is_production:
        keyring.rotate_pseudonyms()  # a key file from before pseudonym keys: add one
    return keyring
