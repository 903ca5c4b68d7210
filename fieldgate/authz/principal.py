"""Who asks: the principal of a request, built from a verified token."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class PrincipalKind(StrEnum):
    USER = "user"
    STAFF = "staff"
    PARTNER = "partner"
    ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class Principal:
    """A verified caller. ``roles`` are casbin subjects; ``scopes`` and ``purposes`` narrow.

    ``scopes`` empty means "no narrowing" (the policy alone decides); ``purposes`` empty
    means every purpose the policy grants the roles.
    """

    kind: PrincipalKind
    id: int | None = None
    name: str = "anonymous"
    roles: frozenset[str] = frozenset({"anonymous"})
    scopes: frozenset[str] = frozenset()
    purposes: frozenset[str] = frozenset()
    strict: bool = False
    token_id: str | None = None
    partner_region: str | None = None
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def is_authenticated(self) -> bool:
        return self.kind is not PrincipalKind.ANONYMOUS

    @property
    def identity(self) -> str:
        return f"{self.kind}:{self.id}" if self.id is not None else str(self.kind)

    @property
    def user_id(self) -> int | None:
        return self.id if self.kind is PrincipalKind.USER else None

    @property
    def staff_id(self) -> int | None:
        return self.id if self.kind is PrincipalKind.STAFF else None

    @property
    def partner_id(self) -> int | None:
        return self.id if self.kind is PrincipalKind.PARTNER else None


ANONYMOUS = Principal(kind=PrincipalKind.ANONYMOUS)
