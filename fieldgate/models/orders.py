"""Orders and their items; printed materials are shipped by a logistics partner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class Order(SQLModel, table=True):
    __tablename__ = "orders"
    # Each row scope filters on one column and pages by id (keyset): one index serves both,
    # so a page is an ordered index range, not every matching row sorted.
    __table_args__ = (
        Index("ix_orders_user_id_id", "user_id", "id"),
        Index("ix_orders_logistics_partner_id_id", "logistics_partner_id", "id"),
        Index("ix_orders_payment_partner_id_id", "payment_partner_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    order_no: str = Field(max_length=32, unique=True)
    user_id: int = Field(foreign_key="users.id")
    status: str = Field(max_length=16)
    amount_cents: int = Field(ge=0)
    created_at: datetime
    buyer_name: str | None = Field(default=None, max_length=64)
    buyer_phone: str | None = Field(default=None, max_length=32)
    buyer_id_number: str | None = Field(default=None, max_length=255)
    bank_card: str | None = Field(default=None, max_length=255)
    delivery_address: str | None = Field(default=None, max_length=255)
    invoice_title: str | None = Field(default=None, max_length=128)
    invoice_tax_id: str | None = Field(default=None, max_length=32)
    remarks: str | None = None
    logistics_partner_id: int | None = Field(default=None, foreign_key="partners.id")
    payment_partner_id: int | None = Field(default=None, foreign_key="partners.id")
    delivered_at: datetime | None = Field(
        default=None, description="when printed materials reached the buyer"
    )


class OrderItem(SQLModel, table=True):
    __tablename__ = "order_items"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    course_id: int = Field(foreign_key="courses.id", index=True)
    quantity: int = Field(default=1, ge=1)
    price_cents: int = Field(ge=0)
