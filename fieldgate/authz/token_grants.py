"""What a token may be narrowed to: scopes the schema has, purposes its roles may declare.

A scope is a field coordinate (``Order.deliveryAddress``) or a whole type (``Order.*``,
``Order:*``); one naming nothing would silently narrow the token to nothing. A purpose the
token's roles may not declare would be refused on every request (``PURPOSE_NOT_ALLOWED``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from fieldgate.authz.policy import Policy


@dataclass(frozen=True, slots=True)
class TokenGrants:
    """The schema's coordinates and the policy in force, against which a token is checked."""

    coordinates: Collection[str]
    policy: Policy

    def unknown_scopes(self, scopes: Iterable[str]) -> list[str]:
        """The scopes that name no type or field of the schema, sorted."""
        types = {coordinate.split(".", 1)[0] for coordinate in self.coordinates}
        return sorted(
            {
                scope
                for scope in scopes
                if not (
                    scope[:-2] in types
                    if scope.endswith((".*", ":*"))
                    else scope in self.coordinates
                )
            }
        )

    def undeclarable(self, roles: Iterable[str], purposes: Iterable[str]) -> list[str]:
        """The purposes none of ``roles`` may declare under the policy, sorted."""
        held = tuple(roles)
        return sorted({p for p in purposes if not self.policy.may_declare(held, p)})
