"""The policy in force, as the server loads it: the folder's rules, or the database's with
``FIELDGATE_POLICY_SOURCE=database`` (``policy explain``, ``lint`` and ``matrix`` read it)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from fieldgate.settings import Settings

if TYPE_CHECKING:
    from fieldgate.authz.policy import Policy
    from fieldgate.authz.purposes import PurposeVocabulary


def live_rules(settings: Settings) -> list[str] | None:
    """The database's rule lines with ``POLICY_SOURCE=database``; None: the folder's."""
    if settings.policy_source != "database":
        return None
    from fieldgate.cli.policy_offline import export_rules

    # an empty table is filled from the folder by the first instance that starts
    return asyncio.run(export_rules(settings)) or None


def live_policy(settings: Settings, vocabulary: PurposeVocabulary) -> Policy:
    """The rules in force with the folder's model and purposes."""
    from fieldgate.authz.policy_loading import load_policy
    from fieldgate.policy_store.watch import PolicySource

    lines = live_rules(settings)
    if lines is None:
        return load_policy(settings.policy_dir, vocabulary)
    return PolicySource(settings.policy_dir, vocabulary, None).candidate(lines)
