"""Stand-ins for services the tests do not want to run for real."""

from __future__ import annotations

from collections.abc import Iterable


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
