"""SQLModel tables, one module per aggregate. Imports nothing else of fieldgate."""

from __future__ import annotations

from sqlmodel import SQLModel

from fieldgate.models.catalog import Course, Enrollment
from fieldgate.models.identity import IssuedToken, Partner, Staff
from fieldgate.models.orders import Order, OrderItem
from fieldgate.models.support import SupportTicket, TicketMessage
from fieldgate.models.users import Consent, Device, LoginEvent, ThirdPartyLogin, User

metadata = SQLModel.metadata

__all__ = [
    "Consent",
    "Course",
    "Device",
    "Enrollment",
    "IssuedToken",
    "LoginEvent",
    "Order",
    "OrderItem",
    "Partner",
    "Staff",
    "SupportTicket",
    "ThirdPartyLogin",
    "TicketMessage",
    "User",
    "metadata",
]
