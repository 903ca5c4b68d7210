"""The expectations matrix (``expectations.csv``) as data, and who plays each role."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from fieldgate.authz.principal import PrincipalKind

MATRIX = Path(__file__).with_name("expectations.csv")

# The demo account that plays each default role.
ACCOUNTS: dict[str, str | None] = {
    "user": "alice",
    "support_agent": "support1",
    "finance": "finance1",
    "security_analyst": "security1",
    "verification_officer": "verifier1",
    "dpo": "dpo",
    "admin": "admin",
    "logistics": "sf-express",
    "payment": "unionpay",
    "merchant": "merchant-1",
    "analytics": "insight-1",
    "marketing": "marketing1",
    "anonymous": None,
}

# De-identified purposes (purposes.toml [deidentification]): a data subject's
# quasi-identifiers, generalised as received (birth year, gender, province), are withheld
# when fewer than K users share them; a minor's personal values need a guardian's consent.
DEIDENTIFIED_PURPOSES = frozenset({"ANALYTICS"})
K = 10
QUASI_IDENTIFIERS = ("User.birthDate", "User.gender", "User.region")

KINDS = {
    "user": PrincipalKind.USER,
    "logistics": PrincipalKind.PARTNER,
    "payment": PrincipalKind.PARTNER,
    "merchant": PrincipalKind.PARTNER,
    "analytics": PrincipalKind.PARTNER,
    "anonymous": PrincipalKind.ANONYMOUS,
}


@dataclass(frozen=True)
class Expectation:
    role: str
    purpose: str | None
    field: str
    other: str
    owner: str
    assigned: str


def load_matrix() -> list[Expectation]:
    with MATRIX.open(encoding="utf-8", newline="") as handle:
        return [
            Expectation(
                row["role"],
                None if row["purpose"] == "-" else row["purpose"],
                row["field"],
                row["other"],
                row["owner"],
                row["assigned"],
            )
            for row in csv.DictReader(handle)
        ]


def cases() -> dict[tuple[str, str | None], dict[str, Expectation]]:
    """(role, purpose) -> field -> expectation."""
    grouped: dict[tuple[str, str | None], dict[str, Expectation]] = {}
    for expectation in load_matrix():
        grouped.setdefault((expectation.role, expectation.purpose), {})[expectation.field] = (
            expectation
        )
    return grouped
