"""What is stored encrypted at rest: the columns, and the schema fields that read them.

The most sensitive values of the privacy policy (ID numbers, bank cards, device
identifiers, the face template) are sealed by the data keyring before they are written
and opened only when a plan discloses them.
"""

from __future__ import annotations

from collections.abc import Mapping

# Table -> its encrypted columns. ``users.face_template`` is binary and never in the schema.
ENCRYPTED_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "users": ("id_number", "face_template"),
    "orders": ("buyer_id_number", "bank_card"),
    "devices": ("imei", "mac"),
}

# (table, column) pairs holding bytes rather than text.
BINARY_COLUMNS: frozenset[tuple[str, str]] = frozenset({("users", "face_template")})

# The schema coordinates whose values come from an encrypted column.
ENCRYPTED_COORDINATES: frozenset[str] = frozenset(
    {"User.idNumber", "Order.buyerIdNumber", "Order.bankCard", "Device.imei", "Device.mac"}
)
