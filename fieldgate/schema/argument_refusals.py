"""An operation refused for its arguments: the errors it gets and the events it leaves.

An argument that reads a field the principal may not read in full refuses the whole
operation before any resolver runs (``fieldgate.authz.arguments``): ``data`` is null and
each refused argument has one ``FORBIDDEN_ARGUMENT`` error naming the argument and the
field. Each refusal is in the audit trail like a denial of its field.
"""

from __future__ import annotations

from collections.abc import Sequence

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError

from fieldgate.audit.events import Actor, AuditKind, event_of
from fieldgate.audit.request import must_fail_closed
from fieldgate.authz.arguments import ArgumentDecision
from fieldgate.errors import ForbiddenArgument
from fieldgate.resolvers.context import RequestContext

REASON = "FORBIDDEN_ARGUMENT"


def argument_refusal(
    refused: Sequence[ArgumentDecision], purpose: str | None
) -> GraphQLExecutionResult:
    """The result of an operation refused for ``refused``: no data, one error each."""
    errors = []
    for decision in refused:
        read = decision.read
        extensions: dict[str, object] = {"argument": read.name, "field": read.coordinate}
        if purpose is not None:
            extensions["purpose"] = purpose
        if decision.reason is not None:
            extensions["reason"] = str(decision.reason)
        error = ForbiddenArgument(
            f"{read.name} reads {read.coordinate}, which is not disclosed in full"
            + (f" for purpose {purpose}" if purpose else ""),
            **extensions,
        )
        errors.append(
            GraphQLError(
                error.message,
                path=list(read.path),
                extensions={"code": error.code, **error.extensions},
            )
        )
    return GraphQLExecutionResult(data=None, errors=errors)


def audit_refused_arguments(
    ctx: RequestContext,
    refused: Sequence[ArgumentDecision],
    *,
    purpose: str | None,
    policy_version: str,
    operation_name: str | None,
    document_hash: str | None,
) -> None:
    """One denial event per refused (argument, field), best-effort like every denial."""
    services = ctx.services
    if not services.audit_enabled:
        return
    actor = Actor.of(ctx.principal)
    detail_base = {"jti": ctx.principal.token_id} if ctx.principal.token_id else {}
    events = [
        event_of(
            AuditKind.DENIAL,
            actor,
            "DENIED",
            None,
            request_id=ctx.request_id,
            purpose=purpose,
            operation_name=operation_name,
            document_hash=document_hash,
            coordinate=decision.read.coordinate,
            reason=REASON,
            policy_version=policy_version,
            detail={**detail_base, "argument": decision.read.name},
        )
        for decision in refused
    ]
    must_fail_closed(events, services.audit)
