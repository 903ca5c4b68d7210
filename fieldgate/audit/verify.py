"""Checking the audit trail: recompute every link, in order, and name the first problem.

A pruned trail starts at its checkpoint (``audit.checkpoint``), which must verify with the
key; without one the trail starts at seq 1 and its first event follows the genesis link.

Events are read in batches by ``seq`` (keyset pagination), so memory stays bounded however
long the trail is. For each event, in this order:

- ``seq`` follows the previous one (a gap: events were deleted);
- it was linked with the configured key;
- ``prev_link`` is the previous event's link (deleted, inserted or reordered events);
- ``link`` matches its content (an edited event, or one inserted without the key);
- its ``audit_subjects`` rows are exactly its ``subjects`` (a user's access log was edited).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from fieldgate.audit.chain import GENESIS, AuditKey, link_of
from fieldgate.audit.checkpoint import trail_start
from fieldgate.models.tables import audit_events, audit_subjects

Row = Mapping[Any, Any]


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome: how many events were verified, the last good link, the first problem."""

    count: int
    head: str
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


async def verify_trail(
    engine: AsyncEngine, key: AuditKey, *, batch_size: int = 1000
) -> Verification:
    """Walk the whole trail in batches of ``batch_size`` events and verify every link."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    count = 0
    async with engine.connect() as connection:
        start = await trail_start(connection, key)
        if start.problem is not None:
            return Verification(0, GENESIS, start.seq, start.problem)
        prev_link, after = start.prev_link, start.seq - 1
        while True:
            rows = await _batch(connection, after, batch_size)
            if not rows:
                return Verification(count, prev_link)
            holders = [_holder(row) for row in rows]
            subjects = await _subjects(connection, min(rows[0]["seq"], *holders), rows[-1]["seq"])
            for index, row in enumerate(rows):
                problem = _problem(row, after + 1, prev_link, key, rows[index + 1 :])
                holder = holders[index]
                if problem is None and (
                    subjects.get(holder, []) != _listed(row)
                    or (holder != row["seq"] and subjects.get(row["seq"]))
                ):
                    problem = "its audit_subjects rows differ from its subjects: edited"
                if problem is not None:
                    return Verification(count, prev_link, int(row["seq"]), problem)
                count += 1
                prev_link = row["link"]
                after = row["seq"]


async def _batch(connection: AsyncConnection, after: int, size: int) -> Sequence[Row]:
    result = await connection.execute(
        select(audit_events)
        .where(audit_events.c.seq > after)
        .order_by(audit_events.c.seq)
        .limit(size)
    )
    return result.mappings().all()


async def _subjects(connection: AsyncConnection, first: int, last: int) -> dict[int, list[int]]:
    result = await connection.execute(
        select(audit_subjects.c.seq, audit_subjects.c.user_id)
        .where(audit_subjects.c.seq.between(first, last))
        .order_by(audit_subjects.c.seq, audit_subjects.c.user_id)
    )
    found: dict[int, list[int]] = defaultdict(list)
    for seq, user_id in result.all():
        found[seq].append(user_id)
    return found


def _holder(row: Row) -> int:
    """The seq whose ``audit_subjects`` rows list this event's subjects (its own for events
    stored before events of a batch shared them)."""
    holder = row["subjects_seq"]
    return int(row["seq"]) if holder is None else int(holder)


def _listed(row: Row) -> list[int]:
    text = row["subjects"] or ""
    try:
        return sorted({int(part) for part in text.split()})
    except ValueError:
        return [-1]  # not ids at all: never equal to the subject rows


def _problem(
    row: Row, expected: int, prev_link: str, key: AuditKey, later: Sequence[Row]
) -> str | None:
    seq = row["seq"]
    if seq != expected:
        if expected == 1:
            return f"the trail starts at seq={seq}: the events before it were deleted"
        return f"seq jumps from {expected - 1} to {seq}: events were deleted"
    if row["key_id"] != key.id:
        return f"linked with key {row['key_id']}, not the configured key {key.id}"
    if row["prev_link"] != prev_link:
        moved = next((r["seq"] for r in later if r["link"] == row["prev_link"]), None)
        if moved is not None:
            return f"events were reordered: it follows the later event seq={moved}"
        if seq == 1:
            return "prev_link is not the genesis link: events before it were deleted"
        return (
            f"prev_link is not the link of event seq={seq - 1}:"
            " an event was deleted, inserted or reordered"
        )
    if link_of(key, row) != row["link"]:
        return "its link does not match its content: the event was edited, or inserted"
    return None
