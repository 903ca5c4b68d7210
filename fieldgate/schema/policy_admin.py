"""The types of policy administration: an accepted change and a shadow-mode difference.

Like every value of the schema they are dicts, read by the schema's default resolver.
"""

from __future__ import annotations

from typing import Any

import strawberry

from fieldgate.authz.shadow import ShadowDifference
from fieldgate.policy_store.changes import PolicyChange


@strawberry.type(description="A policy change now in force on every instance.")
class PolicyChangeResult:
    version: str
    previous_version: str
    revision: int
    rules: int


def policy_change_result(change: PolicyChange) -> dict[str, Any]:
    """The ``PolicyChangeResult`` of an accepted change."""
    return {
        "version": change.version,
        "previous_version": change.previous_version,
        "revision": change.revision,
        "rules": change.rules,
    }


@strawberry.type(
    description="A field the candidate policy would decide differently, and how often it was hit."
)
class ShadowDifferenceCount:
    coordinate: str
    role: str
    purpose: str
    condition: str
    live: str
    candidate: str
    count: int


def shadow_difference_count(difference: ShadowDifference, count: int) -> dict[str, Any]:
    """The ``ShadowDifferenceCount`` of one difference."""
    return {
        "coordinate": difference.coordinate,
        "role": difference.role,
        "purpose": difference.purpose,
        "condition": difference.condition,
        "live": difference.live,
        "candidate": difference.candidate,
        "count": count,
    }
