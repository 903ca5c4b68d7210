"""The accounts every demo data set has: staff with least-privilege roles, and partners."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from faker import Faker

from fieldgate.authz.purposes import Purpose
from fieldgate.demo.rows import IdSequence, Row
from fieldgate.demo.timeline import PLATFORM_LAUNCH

# Username -> space-separated roles (the casbin subjects of the packaged policy).
STAFF_ROLES: dict[str, str] = {
    "admin": "admin",
    "dpo": "dpo",
    "support1": "support_agent",
    "support2": "support_agent",
    "finance1": "finance",
    "security1": "security_analyst",
    "verifier1": "verification_officer",
    "marketing1": "marketing",
}


@dataclass(frozen=True, slots=True)
class PartnerSpec:
    name: str
    kind: str
    region: str
    purposes: tuple[Purpose, ...]


PARTNERS: tuple[PartnerSpec, ...] = (
    PartnerSpec("sf-express", "logistics", "CN", (Purpose.DELIVERY,)),
    PartnerSpec("unionpay", "payment", "CN", (Purpose.PAYMENT,)),
    PartnerSpec(
        "merchant-1", "merchant", "CN", (Purpose.ORDER_FULFILLMENT, Purpose.CUSTOMER_SUPPORT)
    ),
    PartnerSpec("insight-1", "analytics", "CN", (Purpose.ANALYTICS,)),
    # Outside mainland China: it needs the user's separate cross-border consent.
    PartnerSpec("global-logistics", "logistics", "SG", (Purpose.DELIVERY,)),
)


def make_partners(ids: IdSequence) -> tuple[list[Row], dict[str, int]]:
    """The partner rows, and each partner's id by name."""
    rows: list[Row] = []
    for index, spec in enumerate(PARTNERS):
        rows.append(
            {
                "id": ids.next(),
                "name": spec.name,
                "kind": spec.kind,
                "region": spec.region,
                "allowed_purposes": " ".join(p.value for p in spec.purposes),
                "active": True,
                "created_at": PLATFORM_LAUNCH + timedelta(days=30 * (index + 1)),
            }
        )
    return rows, {row["name"]: row["id"] for row in rows}


def make_staff(
    fake: Faker, ids: IdSequence, password_hash: str
) -> tuple[list[Row], dict[str, int]]:
    """The staff rows (Chinese display names, the shared demo password), and ids by username."""
    rows: list[Row] = []
    for index, (username, roles) in enumerate(STAFF_ROLES.items()):
        rows.append(
            {
                "id": ids.next(),
                "username": username,
                "password_hash": password_hash,
                "display_name": str(fake.name()),
                "roles": roles,
                "active": True,
                "created_at": PLATFORM_LAUNCH + timedelta(days=7 * index),
            }
        )
    return rows, {row["username"]: row["id"] for row in rows}
