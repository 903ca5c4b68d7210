"""The policy in force on this instance, and the shadow candidate compared with it.

One holder per process, shared by the requests (which read it), the watcher (which swaps
in revisions made anywhere) and the administration (which puts changes in force).
Swapping is one assignment: a request reads ``policy`` once, and plans are keyed by the
policy version.
"""

from __future__ import annotations

from dataclasses import dataclass

from fieldgate.authz.policy import Policy
from fieldgate.authz.shadow import ShadowPolicy


@dataclass
class LivePolicy:
    """The live policy and the candidate (``None``: nothing is shadowed)."""

    policy: Policy
    shadow: ShadowPolicy | None = None
