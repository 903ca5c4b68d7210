"""Opaque page cursors: a row id sealed under the recipient's key of the pseudonym period.

A cursor was the row id in base64, so every caller of a list received raw row ids, even
one to whom ids are pseudonymous. Now a cursor is one AES block (the id and a fixed tag)
encrypted under a key derived, like the pseudonym keys, per recipient from the period's
pseudonym key: 22 URL-safe characters, different for each recipient, changed by
``fieldgate keys rotate --pseudonyms``, and opened only by the gateway. A cursor that does
not open to the tag (forged, another recipient's, an old period's) is refused.
"""

from __future__ import annotations

import base64
import binascii
import struct
from typing import Final

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from fieldgate.errors import BadUserInput

_TAG: Final = b"fgcursor"
_BLOCK: Final = struct.Struct(">8sQ")


class CursorCodec:
    """Seals row ids into cursors and opens them, under one key."""

    def __init__(self, key: bytes) -> None:
        # One block, one key: a keyed permutation of (tag, id), which is all a cursor needs.
        cipher = Cipher(algorithms.AES(key), modes.ECB())
        self._encryptor = cipher.encryptor()
        self._decryptor = cipher.decryptor()

    def encode(self, row_id: int) -> str:
        """The cursor of ``row_id``."""
        sealed = self._encryptor.update(_BLOCK.pack(_TAG, row_id))
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def decode(self, cursor: str) -> int:
        """The row id of a cursor this codec made; anything else is a ``BAD_USER_INPUT``."""
        try:
            raw = base64.urlsafe_b64decode(cursor.encode("ascii") + b"==")
        except (ValueError, UnicodeError, binascii.Error):
            raise BadUserInput("invalid cursor", argument="after") from None
        if len(raw) != _BLOCK.size:
            raise BadUserInput("invalid cursor", argument="after")
        tag, row_id = _BLOCK.unpack(self._decryptor.update(raw))
        if tag != _TAG:
            raise BadUserInput("invalid cursor", argument="after")
        return int(row_id)
