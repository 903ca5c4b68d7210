"""Support tickets and their conversation."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class SupportTicket(SQLModel, table=True):
    __tablename__ = "support_tickets"
    # row scopes (owner, assigned) filter on one column and page by id: one index for both
    __table_args__ = (
        Index("ix_support_tickets_user_id_id", "user_id", "id"),
        Index("ix_support_tickets_assigned_staff_id_id", "assigned_staff_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    order_id: int | None = Field(default=None, foreign_key="orders.id")
    subject: str = Field(max_length=200)
    status: str = Field(max_length=16)
    contact_phone: str | None = Field(default=None, max_length=32)
    contact_email: str | None = Field(default=None, max_length=255)
    assigned_staff_id: int | None = Field(default=None, foreign_key="staff.id")
    created_at: datetime


class TicketMessage(SQLModel, table=True):
    __tablename__ = "ticket_messages"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="support_tickets.id", index=True)
    author_kind: str = Field(max_length=16)
    author_id: int
    body: str
    created_at: datetime
