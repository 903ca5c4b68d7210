"""Support tickets: a user opens one, a user or staff member replies.

Each is one transaction; the payload is read back through the same plan as any query.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from strawberry.types import Info

from fieldgate.authz.principal import PrincipalKind
from fieldgate.errors import NotFound, Unauthenticated
from fieldgate.identity.open_account import lock_open_user, user_transaction
from fieldgate.infra.db import write_transaction
from fieldgate.models.tables import (
    messages,
    orders,
    tickets,
)
from fieldgate.resolvers.arguments import (
    email_argument,
    phone_argument,
    require_user,
    text_argument,
    utc_now,
)
from fieldgate.resolvers.context import RequestContext
from fieldgate.resolvers.lookups import parse_id
from fieldgate.resolvers.queries import lookup
from fieldgate.resolvers.sources import SOURCES

Row = dict[str, Any]
Ctx = Info[RequestContext, None]


async def open_ticket(
    info: Ctx,
    subject: str,
    body: str,
    order_id: str | None = None,
    contact_phone: str | None = None,
    contact_email: str | None = None,
) -> Row | None:
    """Open a support ticket with its first message."""
    user_id = require_user(info)
    title = text_argument(subject, "subject", 200, required=True)
    text = text_argument(body, "body", 5000, required=True)
    now = utc_now()
    async with user_transaction(info.context.services.engine, user_id) as conn:
        linked: int | None = None
        if order_id is not None:
            linked = parse_id(order_id, "Order", "orderId")
            owner = await conn.scalar(select(orders.c.user_id).where(orders.c.id == linked))
            if owner != user_id:
                raise NotFound("Order not found", argument="orderId")
        ticket_id = (
            await conn.execute(
                insert(tickets)
                .values(
                    user_id=user_id,
                    order_id=linked,
                    subject=title,
                    status="open",
                    contact_phone=phone_argument(contact_phone, "contactPhone"),
                    contact_email=email_argument(contact_email, "contactEmail"),
                    created_at=now,
                )
                .returning(tickets.c.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(messages).values(
                ticket_id=ticket_id,
                author_kind="user",
                author_id=user_id,
                body=text,
                created_at=now,
            )
        )
    return await lookup(info, "SupportTicket", ticket_id)


async def reply_to_ticket(info: Ctx, ticket_id: str, body: str) -> Row | None:
    """Add a message to a visible ticket, as its user or as staff who may see it."""
    ctx = info.context
    principal = ctx.principal
    if principal.kind not in (PrincipalKind.USER, PrincipalKind.STAFF) or principal.id is None:
        raise Unauthenticated("login_required", "this operation needs a user or staff member")
    target = parse_id(ticket_id, "SupportTicket", "ticketId")
    text = text_argument(body, "body", 5000, required=True)
    source = SOURCES["SupportTicket"]
    async with write_transaction(ctx.services.engine) as conn:
        owner = await conn.scalar(
            select(tickets.c.user_id).where(
                tickets.c.id == target, source.visibility(principal, ctx.services.policy)
            )
        )
        if owner is None:
            raise NotFound("SupportTicket not found", argument="ticketId")
        # the data subject's row locked: no message lands on a closed account's ticket
        await lock_open_user(conn, owner)
        message_id = (
            await conn.execute(
                insert(messages)
                .values(
                    ticket_id=target,
                    author_kind=str(principal.kind),
                    author_id=principal.id,
                    body=text,
                    created_at=utc_now(),
                )
                .returning(messages.c.id)
            )
        ).scalar_one()
        if principal.kind is PrincipalKind.STAFF:
            await conn.execute(
                update(tickets).where(tickets.c.id == target).values(status="pending")
            )
    return await lookup(info, "TicketMessage", message_id)
