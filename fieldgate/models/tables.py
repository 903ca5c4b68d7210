"""The tables behind the models, for SQLAlchemy Core statements: one handle per table,
imported wherever a query is built (SQLModel types ``__table__`` loosely)."""

from __future__ import annotations

from sqlalchemy import Table

from fieldgate.models import (
    AuditCheckpoint,
    AuditEvent,
    AuditSubject,
    Consent,
    Course,
    Device,
    Enrollment,
    IssuedToken,
    LoginEvent,
    MaintenanceLease,
    Order,
    OrderItem,
    Partner,
    PartnerDocument,
    PersistedDocument,
    PolicyRevision,
    PolicyRule,
    Staff,
    SupportTicket,
    ThirdPartyLogin,
    TicketMessage,
    User,
)


def _table(model: type) -> Table:
    table: Table = model.__table__  # type: ignore[attr-defined]
    return table


users = _table(User)
consents = _table(Consent)
devices = _table(Device)
login_events = _table(LoginEvent)
third_party_logins = _table(ThirdPartyLogin)
staff = _table(Staff)
partners = _table(Partner)
issued_tokens = _table(IssuedToken)
courses = _table(Course)
enrollments = _table(Enrollment)
orders = _table(Order)
order_items = _table(OrderItem)
tickets = _table(SupportTicket)
messages = _table(TicketMessage)
audit_events = _table(AuditEvent)
audit_subjects = _table(AuditSubject)
audit_checkpoints = _table(AuditCheckpoint)
maintenance_leases = _table(MaintenanceLease)
policy_rules = _table(PolicyRule)
policy_revisions = _table(PolicyRevision)
persisted_documents = _table(PersistedDocument)
partner_documents = _table(PartnerDocument)

# What closing an account erases, in one place for the close and the retention pass: the
# rows of a user that go, and the personal columns of an order (what stays — number, status,
# amount, time, items, the partners that handled it — is what finance keeps, no longer
# linked to a person).
ACCOUNT_ROWS = (third_party_logins, devices, login_events, enrollments, consents)
ORDER_PERSONAL_COLUMNS = (
    "buyer_name",
    "buyer_phone",
    "buyer_id_number",
    "bank_card",
    "delivery_address",
    "invoice_title",
    "invoice_tax_id",
    "remarks",
)
