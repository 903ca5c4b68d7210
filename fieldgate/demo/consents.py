"""Consents of the data subjects: opt-ins per purpose, some withdrawn, guardians for minors."""

from __future__ import annotations

import random
from collections.abc import Mapping

from fieldgate.authz.purposes import Purpose
from fieldgate.demo.people import Person
from fieldgate.demo.rows import IdSequence, Row
from fieldgate.demo.timeline import EPOCH, moment_between

# The separate consent a user gives to transfers of their data outside mainland China.
CROSS_BORDER = "CROSS_BORDER"

# Every purpose a demo consent row may name, in a fixed order.
CONSENT_PURPOSES: tuple[str, ...] = (
    Purpose.MARKETING.value,
    Purpose.PERSONALISATION.value,
    Purpose.RESEARCH.value,
    Purpose.IDENTITY_VERIFICATION.value,
    CROSS_BORDER,
)

# Share of users opting in to each purpose (IDENTITY_VERIFICATION: every verified user).
_OPT_IN_SHARE: Mapping[str, float] = {
    Purpose.MARKETING.value: 0.55,
    Purpose.PERSONALISATION.value: 0.65,
    Purpose.RESEARCH.value: 0.20,
    CROSS_BORDER: 0.10,
}
WITHDRAWN_SHARE = 0.15

# The named users' consents: purpose -> withdrawn since.
_NAMED_CONSENTS: Mapping[str, Mapping[str, bool]] = {
    "alice": {purpose: False for purpose in CONSENT_PURPOSES},
    "bob": {
        Purpose.MARKETING.value: True,
        Purpose.PERSONALISATION.value: False,
        Purpose.IDENTITY_VERIFICATION.value: False,
    },
}


def _choices(rng: random.Random, person: Person) -> dict[str, bool]:
    """Purpose -> withdrawn, for one generated user."""
    chosen: dict[str, bool] = {}
    for purpose in CONSENT_PURPOSES:
        if purpose == Purpose.IDENTITY_VERIFICATION.value:
            opted_in = person.verified_at is not None
        else:
            opted_in = rng.random() < _OPT_IN_SHARE[purpose]
        if opted_in:
            chosen[purpose] = rng.random() < WITHDRAWN_SHARE
    if person.minor and not chosen:  # every minor has asked for something, guardian or not
        chosen[Purpose.PERSONALISATION.value] = False
    return chosen


def make_consents(rng: random.Random, ids: IdSequence, people: list[Person]) -> list[Row]:
    """Consent rows of every user; half the minors' are backed by a guardian's consent.

    The first minor always has a guardian's consent and the second never has, so that
    both cases exist in any data set.
    """
    rows: list[Row] = []
    minors_seen = 0
    for person in people:
        chosen = _NAMED_CONSENTS.get(person.username) or _choices(rng, person)
        guardian = False
        if person.minor:
            guardian = minors_seen == 0 or (minors_seen > 1 and rng.random() < 0.5)
            minors_seen += 1
        for purpose, withdrawn in chosen.items():
            start = person.verified_at if purpose == Purpose.IDENTITY_VERIFICATION.value else None
            granted_at = start or moment_between(rng, person.created_at, EPOCH)
            rows.append(
                {
                    "id": ids.next(),
                    "user_id": person.id,
                    "purpose": purpose,
                    "granted_at": granted_at,
                    "withdrawn_at": moment_between(rng, granted_at, EPOCH) if withdrawn else None,
                    "guardian_consent": guardian,
                    "guardian_name": person.guardian_name if guardian else None,
                }
            )
    return rows
