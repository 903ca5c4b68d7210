"""Pruning the audit trail from its start, and the signed checkpoint that says where the
kept part begins.

A checkpoint names the first kept event (``seq``) and the link it follows (``prev_link``,
the link of the last pruned event), MACed with the audit key: verification starts there,
so a trail pruned by the retention pass still verifies, while deleting its oldest events
without the key (no checkpoint, or one that does not verify) is still tampering.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from fieldgate.audit.chain import GENESIS, AuditKey, utc_text
from fieldgate.models.tables import audit_checkpoints, audit_events, audit_subjects


def checkpoint_mac(key: AuditKey, row: Mapping[Any, Any]) -> str:
    """HMAC-SHA256 of a checkpoint's columns (all but ``id`` and ``mac``)."""
    content = {
        "seq": int(row["seq"]),
        "prev_link": str(row["prev_link"]),
        "pruned_at": utc_text(row["pruned_at"]),
        "key_id": str(row["key_id"]),
    }
    message = b"fieldgate audit checkpoint\0" + orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    return hmac.digest(key.secret, message, "sha256").hex()


@dataclass(frozen=True, slots=True)
class Start:
    """Where verification begins: event ``seq`` following ``prev_link``, or a problem."""

    seq: int = 1
    prev_link: str = GENESIS
    problem: str | None = None


async def trail_start(connection: AsyncConnection, key: AuditKey) -> Start:
    """The start of the kept trail: the latest checkpoint when it verifies, else seq 1."""
    row = (
        (
            await connection.execute(
                select(audit_checkpoints).order_by(audit_checkpoints.c.seq.desc()).limit(1)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return Start()
    seq = int(row["seq"])
    if row["key_id"] != key.id or not hmac.compare_digest(checkpoint_mac(key, row), row["mac"]):
        return Start(seq, GENESIS, "the checkpoint does not verify with the audit key: forged")
    return Start(seq, str(row["prev_link"]))


async def prune_before(
    connection: AsyncConnection, key: AuditKey, cutoff: datetime, at: datetime
) -> int:
    """Delete the events stamped before ``cutoff`` from the start of the trail and write
    the checkpoint where the rest begins; the number of events pruned.

    Runs in the caller's transaction, which holds the chain lock. The head is always kept
    (the next event links to it), and so is the holder of any kept event's subjects.
    """
    first, head = (
        await connection.execute(select(func.min(audit_events.c.seq), func.max(audit_events.c.seq)))
    ).one()
    if head is None:
        return 0
    boundary = await connection.scalar(
        select(func.min(audit_events.c.seq)).where(audit_events.c.at >= cutoff)
    )
    boundary = min(int(head) if boundary is None else int(boundary), int(head))
    # an event of the same batch may hold a kept event's audit_subjects rows: keep it too
    holder = await connection.scalar(
        select(func.min(audit_events.c.subjects_seq)).where(
            audit_events.c.seq >= boundary, audit_events.c.subjects_seq < boundary
        )
    )
    if holder is not None:
        boundary = int(holder)
    if boundary <= int(first):
        return 0
    prev_link = await connection.scalar(
        select(audit_events.c.prev_link).where(audit_events.c.seq == boundary)
    )
    await connection.execute(delete(audit_subjects).where(audit_subjects.c.seq < boundary))
    pruned = await connection.execute(delete(audit_events).where(audit_events.c.seq < boundary))
    row = {"seq": boundary, "prev_link": prev_link, "pruned_at": at, "key_id": key.id}
    await connection.execute(insert(audit_checkpoints).values(**row, mac=checkpoint_mac(key, row)))
    return int(pruned.rowcount)
