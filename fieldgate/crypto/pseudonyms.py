"""Pseudonym keys per recipient: who receives a pseudonym decides the key that makes it.

One random key per period lives in the data keyring (``fieldgate keys rotate
--pseudonyms`` starts a new period). Each recipient's key is derived from it with HKDF,
with the recipient and the row type in the derivation: two partners receive different
pseudonyms for the same row, a user id and an order id with the same number get
different pseudonyms, and no key is derived from the token signing key. A recipient is a
partner (``partner:<name>``); every other principal (staff, users) is ``internal``.

The mask functions are built once per (period, recipient, row type) and kept; a request
picks its recipient's resolver once (:meth:`PseudonymMasks.resolver`), and per value the
work is the PSEUDONYM mask as before.
"""

from __future__ import annotations

import threading
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fieldgate.authz.masking import MaskFunction, MaskStrategy, mask_function
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.authz.shapers import MaskResolver
from fieldgate.crypto.cursors import CursorCodec
from fieldgate.crypto.keyring import Keyring
from fieldgate.errors import ConfigurationError

INTERNAL_RECIPIENT: Final = "internal"

_KEYLESS: Final = {
    strategy: mask_function(strategy, pseudonym_key=b"")
    for strategy in MaskStrategy
    if strategy is not MaskStrategy.PSEUDONYM
}


def recipient_of(principal: Principal) -> str:
    """The recipient whose pseudonym key serves ``principal``: its partner, or ``internal``."""
    if principal.kind is PrincipalKind.PARTNER:
        return f"partner:{principal.name}"
    return INTERNAL_RECIPIENT


def derive_key(root: bytes, recipient: str, type_name: str) -> bytes:
    """The pseudonym key of ``recipient`` for rows of ``type_name`` under ``root``."""
    info = f"fieldgate pseudonym\0{recipient}\0{type_name}".encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(root)


class PseudonymMasks:
    """Every recipient's PSEUDONYM masks, from the keyring's current period."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring
        self._root()  # checked when the services are built, not on the first request
        self._lock = threading.Lock()
        self._masks: dict[tuple[str, str, str], MaskFunction] = {}
        self._cursors: dict[tuple[str, str], CursorCodec] = {}

    def _root(self) -> tuple[str, bytes]:
        root = self.keyring.pseudonym_root
        if root is None:
            where = self.keyring.path or "the data keyring"
            raise ConfigurationError(
                f"{where} holds no pseudonym key: add one with `fieldgate keys rotate --pseudonyms`"
            )
        return root

    def pseudonymizer(self, recipient: str, type_name: str) -> MaskFunction:
        """The PSEUDONYM mask of ``recipient`` for ids and values of ``type_name`` rows
        (``None`` stays ``None``; any other value is masked as its ``str()``)."""
        period, root = self._root()
        key = (period, recipient, type_name)
        found = self._masks.get(key)
        if found is None:
            derived = derive_key(root, recipient, type_name)
            found = mask_function(MaskStrategy.PSEUDONYM, pseudonym_key=derived)
            with self._lock:
                if len(self._masks) > 4096:  # old periods and many partners: start over
                    self._masks.clear()
                self._masks[key] = found
        return found

    def cursors(self, principal: Principal) -> CursorCodec:
        """The page cursors of ``principal``'s recipient (see :mod:`fieldgate.crypto.cursors`)."""
        period, root = self._root()
        recipient = recipient_of(principal)
        codec = self._cursors.get((period, recipient))
        if codec is None:
            codec = CursorCodec(derive_key(root, recipient, "cursor"))
            with self._lock:
                if len(self._cursors) > 1024:
                    self._cursors.clear()
                self._cursors[(period, recipient)] = codec
        return codec

    def pseudonym_of(self, recipient: str, type_name: str, value: object) -> str:
        """The pseudonym ``recipient`` receives for ``value`` (an id) of a ``type_name`` row.

        Stable within a period; lookups by pseudonym compare against it.
        """
        pseudonym: str = self.pseudonymizer(recipient, type_name)(str(value))
        return pseudonym

    def pseudonym_for(self, principal: Principal, type_name: str, value: object) -> str:
        """The pseudonym ``principal`` receives for ``value`` (an id) of a ``type_name`` row."""
        return self.pseudonym_of(recipient_of(principal), type_name, value)

    def resolver(self, principal: Principal) -> MaskResolver:
        """The mask functions of one request, decided once for its principal.

        The key file is checked for a new period first, so that a rotation done
        elsewhere reaches every process on its next request.
        """
        self.keyring.refresh()
        recipient = recipient_of(principal)

        def resolve(strategy: MaskStrategy, coordinate: str) -> MaskFunction:
            if strategy is MaskStrategy.PSEUDONYM:
                return self.pseudonymizer(recipient, coordinate.partition(".")[0])
            return _KEYLESS[strategy]

        return resolve
