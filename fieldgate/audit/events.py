"""The audit trail's vocabulary: what an audited event is, and where events go.

An event names *who* (principal kind, id, roles, partner), *why* (purpose), *what*
(operation, field coordinate, outcome, reason) and *whose* data (the data subjects' user
ids). It never carries a value: only coordinates, ids and codes, so the trail itself holds
no personal data beyond who touched whom.

Events reach a sink (:class:`AuditSink`): the database chain in production
(``audit_store.DatabaseAuditSink``), a list in tests (``tests/fakes.py``). During
requests they pass through the bounded queue of ``audit_writer.AuditWriter``.

Each operation's events, and whether its response may leave (fail closed), are the
business of ``audit_request``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from fieldgate.authz.principal import Principal, PrincipalKind

# Column widths of ``audit_events``: longer texts are cut before the link is computed.
_WIDTHS = {
    "request_id": 64,
    "principal_roles": 255,
    "purpose": 32,
    "operation_name": 128,
    "document_hash": 64,
    "coordinate": 128,
    "outcome": 32,
    "reason": 64,
    "policy_version": 32,
}


class AuditKind(StrEnum):
    """What an event records."""

    DISCLOSURE = "disclosure"  # a FULL disclosure of a SENSITIVE field
    DENIAL = "denial"
    READ = "read"  # someone else read values MASKED, or PERSONAL ones in FULL
    TOKEN_ISSUED = "token_issued"
    TOKEN_REVOKED = "token_revoked"
    POLICY_CHANGE = "policy_change"
    CONSENT_CHANGE = "consent_change"
    RIGHTS_REQUEST = "rights_request"
    RETENTION = "retention"  # a retention pass: rows removed per kind of record


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One audited fact. ``subjects`` are user ids, sorted; ``detail`` holds non-value facts
    (a token's ``jti``, an old and a new policy version), never a field's value."""

    at: datetime
    kind: AuditKind
    principal_kind: str
    outcome: str
    request_id: str | None = None
    principal_id: int | None = None
    principal_roles: tuple[str, ...] = ()
    partner_id: int | None = None
    purpose: str | None = None
    operation_name: str | None = None
    document_hash: str | None = None
    coordinate: str | None = None
    reason: str | None = None
    subjects: tuple[int, ...] = ()
    policy_version: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def columns(self) -> dict[str, Any]:
        """The event as ``audit_events`` columns, without the chain's (seq, key, links)."""
        subjects = sorted(set(self.subjects))
        values: dict[str, Any] = {
            "at": self.at,
            "kind": str(self.kind),
            "request_id": self.request_id,
            "principal_kind": self.principal_kind,
            "principal_id": self.principal_id,
            "principal_roles": " ".join(self.principal_roles),
            "partner_id": self.partner_id,
            "purpose": self.purpose,
            "operation_name": self.operation_name,
            "document_hash": self.document_hash,
            "coordinate": self.coordinate,
            "outcome": self.outcome,
            "reason": self.reason,
            "subjects": " ".join(str(s) for s in subjects),
            "subject_count": len(subjects),
            "policy_version": self.policy_version,
            "detail": dict(self.detail),
        }
        for name, width in _WIDTHS.items():
            text = values[name]
            if isinstance(text, str) and len(text) > width:
                values[name] = text[:width]
        return values


class AuditSink(Protocol):
    """Where events are stored; ``append`` stores all of a batch or none of it."""

    async def append(self, events: Sequence[AuditEvent]) -> None: ...


@runtime_checkable
class ClosableSink(Protocol):
    """A sink holding resources (its own engine) to release when the writer closes."""

    async def close(self) -> None: ...


class AuditRecorder(Protocol):
    """Where token issuance, consent and rights operations hand their events."""

    async def record(self, events: Sequence[AuditEvent]) -> None: ...


def now() -> datetime:
    """The current time in UTC (events are always stamped in UTC)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted, as the trail records it (from a principal or an account)."""

    kind: str
    id: int | None = None
    roles: tuple[str, ...] = ()
    partner_id: int | None = None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        """The actor of a request's principal."""
        return cls(
            kind=str(principal.kind),
            id=principal.id,
            roles=tuple(sorted(principal.roles)),
            partner_id=principal.partner_id,
        )

    @classmethod
    def account(cls, kind: PrincipalKind | str, account_id: int, roles: Iterable[str]) -> Actor:
        """The actor for an account (a token's holder)."""
        kind = PrincipalKind(kind)
        return cls(
            kind=str(kind),
            id=account_id,
            roles=tuple(sorted(roles)),
            partner_id=account_id if kind is PrincipalKind.PARTNER else None,
        )


def event_of(
    kind: AuditKind, actor: Actor, outcome: str, at: datetime | None, **rest: Any
) -> AuditEvent:
    """An event of ``kind`` by ``actor``, stamped ``at`` (default: now); ``rest`` are the
    other fields of :class:`AuditEvent`."""
    return AuditEvent(
        at=at or now(),
        kind=kind,
        principal_kind=actor.kind,
        principal_id=actor.id,
        principal_roles=actor.roles,
        partner_id=actor.partner_id,
        outcome=outcome,
        **rest,
    )


def token_issued_event(
    holder: Actor,
    *,
    jti: str,
    expires_at: datetime,
    scopes: Sequence[str] = (),
    purposes: Sequence[str] = (),
    strict: bool = False,
    via: str,
    at: datetime | None = None,
) -> AuditEvent:
    """A token was issued to ``holder`` (``via`` ``login`` or ``issue``: the command)."""
    return event_of(
        AuditKind.TOKEN_ISSUED,
        holder,
        "ISSUED",
        at,
        detail={
            "jti": jti,
            "expires_at": expires_at.astimezone(UTC).isoformat(),
            "scopes": sorted(scopes),
            "purposes": sorted(purposes),
            "strict": strict,
            "via": via,
        },
    )


def token_revoked_event(holder: Actor, *, jti: str, at: datetime | None = None) -> AuditEvent:
    """A token of ``holder`` was revoked."""
    return event_of(AuditKind.TOKEN_REVOKED, holder, "REVOKED", at, detail={"jti": jti})


def policy_change_event(
    old_version: str | None, new_version: str, *, at: datetime | None = None
) -> AuditEvent:
    """The gateway started with a policy version other than the last one recorded."""
    return event_of(
        AuditKind.POLICY_CHANGE,
        Actor(kind="system"),
        "CHANGED",
        at,
        policy_version=new_version,
        detail={"old": old_version, "new": new_version},
    )


class ConsentChange(StrEnum):
    GRANTED = "GRANTED"
    WITHDRAWN = "WITHDRAWN"


def consent_change_event(
    actor: Actor,
    subject_id: int,
    consent_purpose: str,
    change: ConsentChange,
    *,
    request_id: str | None = None,
    guardian: bool = False,
    at: datetime | None = None,
) -> AuditEvent:
    """A data subject's consent to ``consent_purpose`` was granted or withdrawn.

    ``consent_purpose`` is a purpose name or ``CROSS_BORDER``; whether a guardian
    consented is a flag, the guardian's name is never recorded.
    """
    return event_of(
        AuditKind.CONSENT_CHANGE,
        actor,
        str(change),
        at,
        request_id=request_id,
        purpose="RIGHTS",
        subjects=(subject_id,),
        detail={"consent": consent_purpose, "guardian": guardian},
    )


class RightsRequest(StrEnum):
    ACCESS = "ACCESS"
    EXPORT = "EXPORT"
    CORRECTION = "CORRECTION"
    ERASURE = "ERASURE"
    PASSWORD_CHANGE = "PASSWORD_CHANGE"


def rights_request_event(
    actor: Actor,
    subject_id: int,
    request: RightsRequest,
    *,
    outcome: str = "DONE",
    request_id: str | None = None,
    fields: Sequence[str] = (),
    at: datetime | None = None,
) -> AuditEvent:
    """A data subject's request (export, correction, erasure, …) and what became of it.

    ``fields`` names the coordinates a correction changed (names only, never values).
    """
    return event_of(
        AuditKind.RIGHTS_REQUEST,
        actor,
        outcome,
        at,
        request_id=request_id,
        purpose="RIGHTS",
        subjects=(subject_id,),
        detail={"request": str(request), "fields": sorted(fields)},
    )


def retention_event(
    counts: Mapping[str, int], *, applied: bool, at: datetime | None = None
) -> AuditEvent:
    """A retention pass ran: how many rows of each kind it removed (``APPLIED``) or would
    remove (``DRY_RUN``); counts only, never a row's content or id."""
    return event_of(
        AuditKind.RETENTION,
        Actor(kind="system"),
        "APPLIED" if applied else "DRY_RUN",
        at,
        detail={"counts": dict(sorted(counts.items()))},
    )
