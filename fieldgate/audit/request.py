"""One GraphQL operation's audit events, and the fail-closed rule for its response.

Fail closed (:func:`must_fail_closed`): a response that discloses a SENSITIVE value in
FULL leaves only when the trail is healthy and accepted its events; otherwise it becomes
``data: null`` with one ``SERVICE_UNAVAILABLE`` error, and nothing sensitive leaves
unrecorded. A response with no such disclosure is served either way; its denial events are
submitted best-effort (the writer counts those it cannot take as dropped).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from fieldgate.audit.events import Actor, AuditEvent, AuditKind, event_of, now
from fieldgate.authz.decisions import Disclosure


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What every event of one GraphQL operation shares."""

    actor: Actor
    request_id: str | None
    purpose: str | None
    operation_name: str | None
    document_hash: str | None
    policy_version: str | None
    token_id: str | None = None


def request_events(
    audited: Mapping[tuple[str, Disclosure], set[int]],
    facts: RequestFacts,
    reasons: Mapping[str, str | None],
    *,
    at: datetime | None = None,
) -> list[AuditEvent]:
    """One event per (coordinate, outcome) of an operation, with all its data subjects.

    ``audited`` is ``DisclosureContext.audited``; ``reasons`` gives the denial reason of a
    coordinate. Ordered by coordinate and outcome, so the trail does not depend on the
    order the executor resolved fields in.
    """
    stamp = at or now()
    events = []
    for (coordinate, disclosure), subjects in sorted(audited.items()):
        full = disclosure is Disclosure.FULL
        kind = AuditKind.DISCLOSURE if full else AuditKind.DENIAL
        reason = None if full else reasons.get(coordinate)
        subjects_of = tuple(sorted(subjects))
        events.append(_event(kind, facts, disclosure, stamp, coordinate, subjects_of, reason))
    return events


def _event(
    kind: AuditKind,
    facts: RequestFacts,
    disclosure: Disclosure,
    at: datetime,
    coordinate: str,
    subjects: tuple[int, ...],
    reason: str | None = None,
) -> AuditEvent:
    """One event of this operation about ``coordinate`` and these data subjects."""
    return event_of(
        kind,
        facts.actor,
        str(disclosure),
        at,
        request_id=facts.request_id,
        purpose=facts.purpose,
        operation_name=facts.operation_name,
        document_hash=facts.document_hash,
        coordinate=coordinate,
        reason=reason,
        subjects=subjects,
        policy_version=facts.policy_version,
        detail={"jti": facts.token_id} if facts.token_id else {},
    )


def read_events(
    read: Mapping[tuple[str, Disclosure], set[int]],
    facts: RequestFacts,
    caller: int | None,
    *,
    at: datetime | None = None,
) -> list[AuditEvent]:
    """One ``read`` event per (coordinate, outcome) of the values others read: MASKED, or
    PERSONAL in FULL (``DisclosureContext.read``), naming every data subject but the caller
    (one's own reads are not disclosures to someone else). Written best-effort, like
    denials: a response is never withheld for them."""
    stamp = at or now()
    events = []
    for (coordinate, disclosure), found in sorted(read.items()):
        subjects = tuple(sorted(found - {caller} if caller is not None else found))
        if not subjects:
            continue
        events.append(_event(AuditKind.READ, facts, disclosure, stamp, coordinate, subjects))
    return events


def discloses_sensitive(events: Iterable[AuditEvent]) -> bool:
    """Whether any event records a FULL disclosure of a SENSITIVE field."""
    return any(event.kind is AuditKind.DISCLOSURE for event in events)


class AuditQueue(Protocol):
    """The writer as a request sees it."""

    @property
    def healthy(self) -> bool: ...

    def submit(self, events: Sequence[AuditEvent]) -> bool: ...


def must_fail_closed(events: Sequence[AuditEvent], queue: AuditQueue | None) -> bool:
    """Submit a request's events; True when the response must be withheld.

    A response disclosing a SENSITIVE value in FULL leaves only if the trail is healthy and
    took its events. Other events (denials) are submitted best-effort: when they cannot be
    accepted the writer counts them as dropped and the response still leaves.
    """
    if not events:
        return False
    if not discloses_sensitive(events):
        if queue is not None:
            queue.submit(events)
        return False
    if queue is None or not queue.healthy:
        return True
    return not queue.submit(events)
