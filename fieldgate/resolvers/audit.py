"""The audit trail in requests: each operation's events go to the writer, and the trail is
read back through the disclosure engine like any other row type.

``auditEvents`` serves the data-protection officer (policy: ``AuditEventView`` rows and
fields under COMPLIANCE). ``myAccessLog`` serves a user the events about them made by
someone else, naming staff by role, never by id or name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, or_, select
from strawberry.types import Info

from fieldgate.audit.events import Actor, AuditKind
from fieldgate.audit.request import (
    RequestFacts,
    must_fail_closed,
    read_events,
    request_events,
)
from fieldgate.authz.denials import Denial
from fieldgate.errors import BadUserInput
from fieldgate.models.tables import audit_events, audit_subjects
from fieldgate.resolvers.context import RequestContext
from fieldgate.resolvers.identifiers import largest_id, row_id
from fieldgate.resolvers.queries import list_rows

Row = dict[str, Any]
Ctx = Info[RequestContext, None]


def audit_operation(
    ctx: RequestContext,
    *,
    operation_name: str | None,
    document_hash: str | None,
    denials: Sequence[Denial] = (),
) -> bool:
    """Submit an executed operation's audit events; True when its response must be withheld.

    One event per (coordinate, outcome) with every data subject concerned; ``denials`` (the
    operation's denied selections) give each denied coordinate its reason. Values read by
    someone else MASKED, or PERSONAL ones in FULL, are ``read`` events.
    """
    services = ctx.services
    disclosure = ctx.disclosure
    if not services.audit_enabled or disclosure is None:
        return False
    if not disclosure.audited and not disclosure.read:
        return False
    plan = disclosure.plan
    facts = RequestFacts(
        actor=Actor.of(ctx.principal),
        request_id=ctx.request_id,
        purpose=plan.purpose,
        operation_name=operation_name,
        document_hash=document_hash,
        policy_version=plan.policy_version,
        token_id=ctx.principal.token_id,
    )
    events = request_events(disclosure.audited, facts, _reasons(denials))
    events += read_events(
        disclosure.read, facts, ctx.principal.user_id, at=events[0].at if events else None
    )
    return must_fail_closed(events, services.audit)


def _reasons(denials: Sequence[Denial]) -> dict[str, str | None]:
    found: dict[str, set[str]] = {}
    for denial in denials:
        reasons = found.setdefault(denial.coordinate, set())
        if denial.reason is not None:
            reasons.add(denial.reason.value)
    return {c: ",".join(sorted(reasons)) or None for c, reasons in found.items()}


async def audit_events_(
    info: Ctx,
    first: int | None = None,
    after: str | None = None,
    kind: AuditKind | None = None,
    coordinate: str | None = None,
    subject_id: strawberry.ID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Row:
    """The audit trail, oldest first, filtered by kind, field, data subject and time."""
    where: list[ColumnElement[bool]] = []
    if kind is not None:
        where.append(audit_events.c.kind == kind.value)
    if coordinate is not None:
        where.append(audit_events.c.coordinate == coordinate)
    if subject_id is not None:
        concerning = select(audit_subjects.c.seq).where(
            audit_subjects.c.user_id == _user_id(subject_id)
        )
        where.append(audit_events.c.subjects_seq.in_(concerning))
    if since is not None:
        where.append(audit_events.c.at >= _utc(since))
    if until is not None:
        where.append(audit_events.c.at < _utc(until))
    page = await list_rows(info, "AuditEventView", first=first, after=after, where=where)
    return _readable(page)


async def my_access_log(info: Ctx, first: int | None = None, after: str | None = None) -> Row:
    """Events about the caller made by others (the caller's own reads are left out)."""
    caller = info.context.principal.user_id
    others: ColumnElement[bool] = or_(
        audit_events.c.principal_kind != "user",
        audit_events.c.principal_id.is_(None),
        audit_events.c.principal_id != caller,
    )
    where = [others] if caller is not None else []
    page = await list_rows(info, "AccessLogEntry", first=first, after=after, where=where)
    return _readable(page)


def _readable(page: Row) -> Row:
    """Stored text columns in their GraphQL shapes (lists, the kind enum), in place."""
    for edge in page["edges"]:
        node: dict[str, Any] = edge["node"]
        for name in ("principal_roles", "subjects"):
            value = node.get(name)
            if isinstance(value, str):
                node[name] = value.split()
        kind = node.get("kind")
        if isinstance(kind, str):
            node["kind"] = _kind(kind)
    return page


def _kind(stored: str) -> AuditKind | None:
    try:
        return AuditKind(stored)
    except ValueError:
        return None


def _user_id(raw: str | int) -> int:
    value = row_id(raw, largest_id(audit_subjects.c.user_id))
    if value is None:
        raise BadUserInput("subjectId must be a user id", argument="subjectId")
    return value


def _utc(moment: datetime) -> datetime:
    # a time without a zone is taken as UTC, the zone of every stored time
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).astimezone(UTC)
