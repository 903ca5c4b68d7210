"""Placing an order: one transaction writes the order and its items.

The payload is the order read back through the same plan as any query.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from fieldgate.errors import BadUserInput, NotFound
from fieldgate.identity.open_account import user_transaction
from fieldgate.models.tables import (
    courses,
    orders,
    partners,
    users,
)
from fieldgate.models.tables import order_items as items
from fieldgate.resolvers.arguments import require_user, text_argument, utc_now
from fieldgate.resolvers.context import RequestContext
from fieldgate.resolvers.lookups import parse_id
from fieldgate.resolvers.queries import lookup

Row = dict[str, Any]
Ctx = Info[RequestContext, None]


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
    wanted = sorted({parse_id(c, "Course", "courseIds") for c in course_ids})
    if not wanted:
        raise BadUserInput("an order needs at least one course", argument="courseIds")
    if len(wanted) > 20:
        raise BadUserInput("at most 20 courses per order", argument="courseIds")
    address = text_argument(delivery_address, "deliveryAddress", 255)
    now = utc_now()
    async with user_transaction(info.context.services.engine, user_id) as conn:
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
                    invoice_title=text_argument(invoice_title, "invoiceTitle", 128),
                    invoice_tax_id=text_argument(invoice_tax_id, "invoiceTaxId", 32),
                    remarks=text_argument(remarks, "remarks", 500),
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
