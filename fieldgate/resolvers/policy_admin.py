"""Policy administration over GraphQL: allowed by the policy itself (``manage`` on ``@policy``)."""

from __future__ import annotations

from collections.abc import Sequence

from strawberry.types import Info

from fieldgate.authz.policy_rules import MANAGE_ACT, POLICY_OBJECT
from fieldgate.authz.principal import PrincipalKind
from fieldgate.authz.shadow import ShadowDifference
from fieldgate.errors import Conflict, Forbidden, Unauthenticated
from fieldgate.policy_store.changes import PolicyAdministration, PolicyChange
from fieldgate.resolvers.context import RequestContext

Ctx = Info[RequestContext, None]


def require_policy_manager(info: Ctx) -> PolicyAdministration:
    """The instance's policy administration, when the caller's roles may manage the policy."""
    ctx = info.context
    principal = ctx.principal
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise Unauthenticated("login_required", "this operation needs a signed-in principal")
    if not ctx.services.policy.may(principal.roles, POLICY_OBJECT, MANAGE_ACT):
        raise Forbidden("managing the policy is not allowed for this principal")
    administration = ctx.services.policy_admin
    if administration is None:
        raise Conflict("policy administration is not available on this instance")
    return administration


async def add_policy_rule(info: Ctx, line: str) -> PolicyChange:
    """Add one rule, checked like a policy at start."""
    return await require_policy_manager(info).add_rule(line, info.context.principal)


async def remove_policy_rule(info: Ctx, line: str) -> PolicyChange:
    """Remove one rule, checked like a policy at start."""
    return await require_policy_manager(info).remove_rule(line, info.context.principal)


async def replace_policy(info: Ctx, lines: Sequence[str]) -> PolicyChange:
    """Replace every rule at once."""
    return await require_policy_manager(info).replace(
        lines, info.context.principal, note="policy replaced"
    )


async def reload_policy(info: Ctx) -> PolicyChange:
    """Reload the policy from its source on every instance."""
    return await require_policy_manager(info).reload(info.context.principal)


async def set_shadow_policy(info: Ctx, lines: Sequence[str]) -> str:
    """Shadow the live policy with a checked candidate here at once, and on every instance
    sharing Redis within a second; returns the candidate's version."""
    administration = require_policy_manager(info)
    shadow = administration.set_shadow(lines)
    await administration.watcher.share_shadow(shadow)
    return shadow.candidate.version


async def clear_shadow_policy(info: Ctx) -> bool:
    """Stop shadowing here and on every instance sharing Redis; False when this instance had
    no candidate."""
    administration = require_policy_manager(info)
    had = administration.clear_shadow()
    await administration.watcher.share_shadow(None)
    return had


def shadow_report(info: Ctx) -> list[tuple[ShadowDifference, int]]:
    """The differences counted so far, most frequent first (empty without a candidate)."""
    require_policy_manager(info)
    shadow = info.context.services.live.shadow
    return shadow.report() if shadow is not None else []
