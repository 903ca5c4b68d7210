"""SQLModel tables, one module per aggregate. Imports nothing else of fieldgate."""

from __future__ import annotations

from sqlmodel import SQLModel

from fieldgate.models.audit import AuditCheckpoint, AuditEvent, AuditSubject
from fieldgate.models.catalog import Course, Enrollment
from fieldgate.models.identity import IssuedToken, Partner, Staff
from fieldgate.models.integration import (
    PartnerDocument,
    PersistedDocument,
    PolicyRevision,
    PolicyRule,
)
from fieldgate.models.maintenance import MaintenanceLease
from fieldgate.models.orders import Order, OrderItem
from fieldgate.models.support import SupportTicket, TicketMessage
from fieldgate.models.users import Consent, Device, LoginEvent, ThirdPartyLogin, User

metadata = SQLModel.metadata
# Named constraints, so that SQLite and PostgreSQL agree and migrations can refer to them.
metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

__all__ = [
    "AuditCheckpoint",
    "AuditEvent",
    "AuditSubject",
    "Consent",
    "Course",
    "Device",
    "Enrollment",
    "IssuedToken",
    "LoginEvent",
    "MaintenanceLease",
    "Order",
    "OrderItem",
    "Partner",
    "PartnerDocument",
    "PersistedDocument",
    "PolicyRevision",
    "PolicyRule",
    "Staff",
    "SupportTicket",
    "ThirdPartyLogin",
    "TicketMessage",
    "User",
    "metadata",
]
