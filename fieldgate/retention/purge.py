"""What the retention pass removes, kind by kind, in the caller's transaction.

Every function returns the number of rows it removed (or de-identified). The order
matters only where rows point at others: a ticket's messages go before the ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import String, Table, and_, cast, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from fieldgate.models.tables import (
    ACCOUNT_ROWS,
    ORDER_PERSONAL_COLUMNS,
    consents,
    devices,
    enrollments,
    issued_tokens,
    login_events,
    messages,
    orders,
    third_party_logins,
    tickets,
    users,
)
from fieldgate.retention.schedule import Cutoffs

# Every table the pass may change (VACUUM on PostgreSQL).
TOUCHED: tuple[Table, ...] = (
    login_events,
    devices,
    third_party_logins,
    enrollments,
    consents,
    messages,
    tickets,
    issued_tokens,
    orders,
)


async def _delete(connection: AsyncConnection, table: Table, where: ColumnElement[bool]) -> int:
    return int((await connection.execute(delete(table).where(where))).rowcount)


async def _tickets(connection: AsyncConnection, which: ColumnElement[bool]) -> tuple[int, int]:
    """Delete the tickets ``which`` selects and their messages: (tickets, messages)."""
    ids = select(tickets.c.id).where(which)
    removed_messages = await _delete(connection, messages, messages.c.ticket_id.in_(ids))
    return await _delete(connection, tickets, which), removed_messages


async def purge(connection: AsyncConnection, cutoffs: Cutoffs) -> dict[str, int]:
    """Remove every record past its period; the count per kind."""
    counts: dict[str, int] = {}
    counts["login_events"] = await _delete(
        connection, login_events, login_events.c.at < cutoffs.login_events
    )
    counts["devices"] = await _delete(connection, devices, devices.c.last_seen_at < cutoffs.devices)
    counts["closed_tickets"], counts["ticket_messages"] = await _tickets(
        connection, _closed_before(cutoffs.closed_tickets)
    )
    counts["expired_tokens"] = await _delete(
        connection, issued_tokens, issued_tokens.c.expires_at < cutoffs.expired_tokens
    )
    counts["withdrawn_consents"] = await _delete(
        connection,
        consents,
        and_(
            consents.c.withdrawn_at.is_not(None),
            consents.c.withdrawn_at < cutoffs.withdrawn_consents,
        ),
    )
    counts.update(await _closed_accounts(connection, cutoffs.closed_accounts))
    return counts


def _closed_before(cutoff: datetime) -> ColumnElement[bool]:
    """Closed tickets whose last activity (the last message, else the opening) is before
    ``cutoff``: a ticket records no closing time, and nothing happens on it after closing."""
    later = exists().where(messages.c.ticket_id == tickets.c.id, messages.c.created_at >= cutoff)
    return and_(tickets.c.status == "closed", tickets.c.created_at < cutoff, ~later)


async def _closed_accounts(connection: AsyncConnection, cutoff: datetime) -> dict[str, int]:
    """The residue of accounts closed before ``cutoff``: their remaining rows, tickets and
    tokens go; their orders stay for finance, with no personal column left."""
    closed = select(users.c.id).where(users.c.closed_at.is_not(None), users.c.closed_at < cutoff)
    rows = 0
    for table in ACCOUNT_ROWS:
        rows += await _delete(connection, table, table.c.user_id.in_(closed))
    removed_tickets, removed_messages = await _tickets(connection, tickets.c.user_id.in_(closed))
    subjects = select("user:" + cast(users.c.id, String)).where(users.c.id.in_(closed))
    tokens = await _delete(connection, issued_tokens, issued_tokens.c.subject.in_(subjects))
    personal: Sequence[ColumnElement[bool]] = [
        orders.c[name].is_not(None) for name in ORDER_PERSONAL_COLUMNS
    ]
    deidentified = await connection.execute(
        update(orders)
        .where(orders.c.user_id.in_(closed), or_(*personal))
        .values(dict.fromkeys(ORDER_PERSONAL_COLUMNS))
    )
    return {
        "closed_account_rows": rows,
        "closed_account_tickets": removed_tickets + removed_messages,
        "closed_account_tokens": tokens,
        "closed_account_orders_deidentified": int(deidentified.rowcount),
    }
