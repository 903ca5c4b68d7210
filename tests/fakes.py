"""In-memory stand-ins for the gateway's ports, for tests only."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fieldgate.audit.events import AuditEvent
from fieldgate.authz.principal import Principal


class InMemoryAuditSink:
    """An audit sink that keeps events in a list (no chain)."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def append(self, events: Sequence[AuditEvent]) -> None:
        """Keep the batch."""
        self.events.extend(events)

    async def record(self, events: Sequence[AuditEvent]) -> None:
        """Same as :meth:`append` (so the sink is also an ``AuditRecorder``)."""
        await self.append(events)


class InMemoryRevocations:
    """A revocation list kept in the process; unknown ids count as valid."""

    def __init__(self, revoked: Iterable[str] = ()) -> None:
        self._revoked = set(revoked)

    def revoke(self, jti: str) -> None:
        """Mark a token id as revoked."""
        self._revoked.add(jti)

    async def is_revoked(self, jti: str) -> bool:
        """True when ``jti`` was revoked."""
        return jti in self._revoked

    async def refusal(self, principal: Principal) -> str | None:
        """``revoked`` when the principal's token was revoked (or has no id)."""
        if principal.token_id is None or principal.token_id in self._revoked:
            return "revoked"
        return None
