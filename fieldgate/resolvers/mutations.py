"""Root mutation fields. Each is one transaction: a failed mutation changes nothing.

A mutation's payload is a row read back through the same plan as any query, so it is
disclosed by the same rules.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from fieldgate.audit.events import Actor, RightsRequest, rights_request_event
from fieldgate.authz.principal import PrincipalKind
from fieldgate.errors import BadUserInput, Conflict, Forbidden, NotFound, Unauthenticated
from fieldgate.identity.issuance import issue_for_subject
from fieldgate.identity.issuance import login as login_account
from fieldgate.identity.passwords import hash_password
from fieldgate.models.tables import (
    courses,
    login_events,
    messages,
    orders,
    partners,
    tickets,
    users,
)
from fieldgate.models.tables import order_items as items
from fieldgate.models.tables import staff as staff_table
from fieldgate.resolvers.context import RequestContext
from fieldgate.resolvers.queries import data_keyring, lookup, parse_id
from fieldgate.resolvers.sources import SOURCES

Row = dict[str, Any]
Ctx = Info[RequestContext, None]

USERNAME = re.compile(r"[A-Za-z0-9_.-]{3,32}")
MOBILE = re.compile(r"1[3-9]\d{9}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}\.[A-Za-z]{2,}")


def _now() -> datetime:
    return datetime.now(UTC)


def _text(value: str | None, name: str, limit: int, *, required: bool = False) -> str | None:
    if value is None:
        if required:
            raise BadUserInput(f"{name} is required", argument=name)
        return None
    value = value.strip()
    if required and not value:
        raise BadUserInput(f"{name} must not be empty", argument=name)
    if len(value) > limit:
        raise BadUserInput(f"{name} is longer than {limit} characters", argument=name)
    return value or None


def _phone(value: str | None, name: str = "phone") -> str | None:
    if value is not None and not MOBILE.fullmatch(value.strip()):
        raise BadUserInput(f"{name} must be a mainland mobile number", argument=name)
    return value.strip() if value is not None else None


def _email(value: str | None, name: str = "email") -> str | None:
    if value is not None and not EMAIL.fullmatch(value.strip()):
        raise BadUserInput(f"{name} is not an e-mail address", argument=name)
    return value.strip() if value is not None else None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def require_user(info: Ctx) -> int:
    principal = info.context.principal
    if principal.kind is PrincipalKind.ANONYMOUS:
        raise Unauthenticated("login_required", "this operation needs a signed-in user")
    if principal.user_id is None:
        raise Forbidden("only users can do this")
    return principal.user_id


async def login(info: Ctx, username: str, password: str) -> str:
    """A token for a user or staff member; a user's sign-in is recorded as a login event
    unless the request says Do-Not-Track (``DNT: 1`` or ``Sec-GPC: 1``)."""
    ctx = info.context
    services = ctx.services
    token = await login_account(
        services.engine,
        services.tokens,
        username,
        password,
        ttl=services.settings.token_ttl,
        audit=services.audit,
    )
    user_id = services.tokens.verify(token).user_id
    if user_id is not None and not ctx.do_not_track:
        client = ctx.request.client if ctx.request is not None else None
        async with services.engine.begin() as conn:
            await conn.execute(
                insert(login_events).values(
                    user_id=user_id,
                    ip=client.host if client is not None else None,
                    succeeded=True,
                    at=_now(),
                )
            )
    return token


async def register(
    info: Ctx,
    username: str,
    password: str,
    phone: str | None = None,
    email: str | None = None,
    nickname: str | None = None,
) -> str:
    """Create a user account and return a token for it."""
    services = info.context.services
    if not USERNAME.fullmatch(username):
        raise BadUserInput(
            "username must be 3-32 letters, digits, '_', '.' or '-'", argument="username"
        )
    if not 8 <= len(password) <= 128:
        raise BadUserInput("password must be 8 to 128 characters", argument="password")
    values = {
        "username": username,
        "password_hash": hash_password(password),
        "phone": _phone(phone),
        "email": _email(email),
        "nickname": _text(nickname, "nickname", 64),
        "real_name_verified": False,
        "created_at": _now(),
    }
    async with services.engine.begin() as conn:
        taken = await conn.scalar(
            select(func.count()).select_from(users).where(users.c.username == username)
        )
        taken_by_staff = await conn.scalar(
            select(func.count()).select_from(staff_table).where(staff_table.c.username == username)
        )
        if taken or taken_by_staff:
            raise Conflict("that username is taken", argument="username")
        await conn.execute(insert(users).values(**values))
    return await issue_for_subject(
        services.engine,
        services.tokens,
        username,
        ttl=services.settings.token_ttl,
        audit=services.audit,
    )


PROFILE_FIELDS = {
    "nickname": 64,
    "avatar_url": 255,
    "region": 64,
    "gender": 16,
    "job_title": 64,
    "company": 128,
    "education": 32,
    "real_name": 64,
}


async def update_my_profile(info: Ctx, changes: dict[str, Any]) -> Row | None:
    """Correct the caller's own profile; a verified real name and ID number stay as they are."""
    user_id = require_user(info)
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name in PROFILE_FIELDS:
            values[name] = _text(value, name, PROFILE_FIELDS[name])
        elif name == "phone":
            values[name] = _phone(value)
        elif name == "email":
            values[name] = _email(value)
        elif name == "id_number":
            if value is not None and not re.fullmatch(r"\d{17}[\dX]", value.strip()):
                raise BadUserInput("idNumber must be an 18-character ID number", argument=name)
            # stored sealed, with its blind index for exact lookups
            keyring = data_keyring(info)
            number = value.strip() if value is not None else None
            values[name] = keyring.encrypt(number) if number is not None else None
            values["id_number_index"] = keyring.blind_index(number) if number is not None else None
    if not values:
        raise BadUserInput("nothing to change")
    async with info.context.services.engine.begin() as conn:
        verified = await conn.scalar(
            select(users.c.real_name_verified).where(users.c.id == user_id)
        )
        if verified and ({"real_name", "id_number"} & values.keys()):
            raise Forbidden(
                "a verified real name and ID number cannot be changed",
                reason="REAL_NAME_VERIFIED",
            )
        await conn.execute(update(users).where(users.c.id == user_id).values(**values))
        ctx = info.context
        ctx.audit_or_refuse(
            [
                rights_request_event(
                    Actor.of(ctx.principal),
                    user_id,
                    RightsRequest.CORRECTION,
                    request_id=ctx.request_id,
                    fields=sorted(f"User.{_camel(name)}" for name in values),
                )
            ]
        )
    return await lookup(info, "User", user_id)


async def _logistics_partner(conn: AsyncConnection) -> int | None:
    row = await conn.execute(
        select(partners.c.id)
        .where(partners.c.kind == "logistics", partners.c.region == "CN", partners.c.active)
        .order_by(partners.c.id)
        .limit(1)
    )
    return row.scalar_one_or_none()


async def place_order(
    info: Ctx,
    course_ids: list[str],
    delivery_address: str | None = None,
    invoice_title: str | None = None,
    invoice_tax_id: str | None = None,
    remarks: str | None = None,
) -> Row | None:
    """Order courses; printed materials need a delivery address and go to logistics."""
    user_id = require_user(info)
    wanted = sorted({parse_id(c, "Course") for c in course_ids})
    if not wanted:
        raise BadUserInput("an order needs at least one course", argument="courseIds")
    if len(wanted) > 20:
        raise BadUserInput("at most 20 courses per order", argument="courseIds")
    address = _text(delivery_address, "deliveryAddress", 255)
    now = _now()
    async with info.context.services.engine.begin() as conn:
        found = (
            await conn.execute(
                select(courses.c.id, courses.c.price_cents, courses.c.ships_materials).where(
                    courses.c.id.in_(wanted)
                )
            )
        ).all()
        if len(found) != len(wanted):
            raise NotFound("Course not found", argument="courseIds")
        ships = any(row.ships_materials for row in found)
        if ships and address is None:
            raise BadUserInput(
                "these courses ship printed materials: deliveryAddress is required",
                argument="deliveryAddress",
            )
        buyer = (
            await conn.execute(
                select(users.c.real_name, users.c.phone, users.c.id_number).where(
                    users.c.id == user_id
                )
            )
        ).one()
        order_id = (
            await conn.execute(
                insert(orders)
                .values(
                    order_no=f"FG{now:%Y%m%d%H%M%S}{user_id % 10000:04d}{now.microsecond:06d}",
                    user_id=user_id,
                    status="pending",
                    amount_cents=sum(row.price_cents for row in found),
                    created_at=now,
                    buyer_name=buyer.real_name,
                    buyer_phone=buyer.phone,
                    buyer_id_number=buyer.id_number,  # sealed already: copied as it is
                    delivery_address=address if ships else None,
                    invoice_title=_text(invoice_title, "invoiceTitle", 128),
                    invoice_tax_id=_text(invoice_tax_id, "invoiceTaxId", 32),
                    remarks=_text(remarks, "remarks", 500),
                    logistics_partner_id=await _logistics_partner(conn) if ships else None,
                )
                .returning(orders.c.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(items),
            [
                {
                    "order_id": order_id,
                    "course_id": row.id,
                    "quantity": 1,
                    "price_cents": row.price_cents,
                }
                for row in found
            ],
        )
    return await lookup(info, "Order", order_id)


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
    title = _text(subject, "subject", 200, required=True)
    text = _text(body, "body", 5000, required=True)
    now = _now()
    async with info.context.services.engine.begin() as conn:
        linked: int | None = None
        if order_id is not None:
            linked = parse_id(order_id, "Order")
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
                    contact_phone=_phone(contact_phone, "contactPhone"),
                    contact_email=_email(contact_email, "contactEmail"),
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
    target = parse_id(ticket_id, "SupportTicket")
    text = _text(body, "body", 5000, required=True)
    source = SOURCES["SupportTicket"]
    async with ctx.services.engine.begin() as conn:
        visible = await conn.scalar(
            select(tickets.c.id).where(
                tickets.c.id == target, source.visibility(principal, ctx.services.policy)
            )
        )
        if visible is None:
            raise NotFound("SupportTicket not found", argument="ticketId")
        message_id = (
            await conn.execute(
                insert(messages)
                .values(
                    ticket_id=target,
                    author_kind=str(principal.kind),
                    author_id=principal.id,
                    body=text,
                    created_at=_now(),
                )
                .returning(messages.c.id)
            )
        ).scalar_one()
        if principal.kind is PrincipalKind.STAFF:
            await conn.execute(
                update(tickets).where(tickets.c.id == target).values(status="pending")
            )
    return await lookup(info, "TicketMessage", message_id)
