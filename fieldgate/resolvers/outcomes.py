"""What happened to one operation, as the GraphQL layer records it on the request context
for the HTTP layer (the status) and the request line (the code) to read."""

from __future__ import annotations

from dataclasses import dataclass

from fieldgate.infra.faults import DatabaseFault
from fieldgate.ratelimit.limiter import Exceeded


@dataclass(frozen=True, slots=True)
class CostRefused:
    """The operation's cost exceeded its caller's budget: nothing ran (HTTP 429)."""

    exceeded: Exceeded


@dataclass(frozen=True, slots=True)
class DatabaseFaulted:
    """The database could not answer: the result was replaced by one error (HTTP 503)."""

    fault: DatabaseFault


RequestOutcome = CostRefused | DatabaseFaulted
