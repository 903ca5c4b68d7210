"""The GraphQL object types. Every field of a row type carries its classification.

Resolvers never build these classes: a row reaches the executor as a shaped ``dict`` and
the default resolver reads it. The classes exist to declare the schema.
"""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from fieldgate.audit.events import AuditKind
from fieldgate.authz.classification import Level
from fieldgate.authz.masking import MaskStrategy as M
from fieldgate.authz.purposes import Purpose as P
from fieldgate.resolvers import relations
from fieldgate.schema.directives import classified, classified_relation

PUBLIC, INTERNAL, PERSONAL, SENSITIVE = (
    Level.PUBLIC,
    Level.INTERNAL,
    Level.PERSONAL,
    Level.SENSITIVE,
)
IDENTIFYING = (P.MARKETING, P.ANALYTICS, P.RESEARCH, P.PERSONALISATION)
PROFILE_PURPOSES = (P.ACCOUNT, P.CUSTOMER_SUPPORT, P.SECURITY, P.COMPLIANCE)
TRANSACTION = (P.ORDER_FULFILLMENT, P.CUSTOMER_SUPPORT, P.ANALYTICS)
LEARNING = (P.LEARNING, P.CUSTOMER_SUPPORT, P.ANALYTICS)
OPTIONAL_PROFILE = (P.ACCOUNT, P.PERSONALISATION, P.ANALYTICS)
SUPPORT = (P.CUSTOMER_SUPPORT,)
SECURITY = (P.SECURITY,)
AUDIT = (P.COMPLIANCE,)
OWN_ACCESS_LOG = (P.RIGHTS,)

strawberry.enum(AuditKind, name="AuditKind", description="what an audit event records")


@strawberry.type(description="A course of the public catalogue.")
class Course:
    id: strawberry.ID = classified(PUBLIC)
    title: str = classified(PUBLIC)
    category: str = classified(PUBLIC)
    description: str = classified(PUBLIC)
    teacher: str = classified(PUBLIC)
    price_cents: int = classified(PUBLIC)
    ships_materials: bool = classified(PUBLIC)
    created_at: datetime = classified(PUBLIC)


@strawberry.type(description="A device the user signed in from.")
class Device:
    id: strawberry.ID = classified(INTERNAL)
    model: str | None = classified(SENSITIVE, M.PSEUDONYM, SECURITY)
    os: str | None = classified(SENSITIVE, M.PSEUDONYM, SECURITY)
    imei: str | None = classified(SENSITIVE, M.PSEUDONYM, SECURITY)
    mac: str | None = classified(SENSITIVE, M.PSEUDONYM, SECURITY)
    ip: str | None = classified(SENSITIVE, M.IP, SECURITY)
    last_seen_at: datetime | None = classified(SENSITIVE, None, SECURITY)


@strawberry.type(description="A sign-in attempt.")
class LoginEvent:
    id: strawberry.ID = classified(INTERNAL)
    ip: str | None = classified(SENSITIVE, M.IP, SECURITY)
    city: str | None = classified(SENSITIVE, M.REDACT, SECURITY)
    at: datetime | None = classified(SENSITIVE, None, SECURITY)
    succeeded: bool | None = classified(SENSITIVE, None, SECURITY)


@strawberry.type(description="A WeChat, QQ, Weibo or Apple sign-in bound to the account.")
class ThirdPartyLogin:
    id: strawberry.ID = classified(INTERNAL)
    provider: str | None = classified(PERSONAL, None, (P.ACCOUNT, P.SECURITY))
    external_nickname: str | None = classified(PERSONAL, M.NAME, (P.ACCOUNT, P.SECURITY))
    bound_at: datetime | None = classified(PERSONAL, None, (P.ACCOUNT, P.SECURITY))


@strawberry.type(description="A user's learning record for one course.")
class Enrollment:
    id: strawberry.ID = classified(INTERNAL, M.PSEUDONYM)
    course: Course | None = classified_relation(PERSONAL, LEARNING, relations.enrollment_course)
    progress: int | None = classified(PERSONAL, None, LEARNING)
    study_minutes: int | None = classified(PERSONAL, None, LEARNING)
    completed: bool | None = classified(PERSONAL, None, LEARNING)
    enrolled_at: datetime | None = classified(PERSONAL, M.DATE_MONTH, LEARNING)


@strawberry.type(description="A registered learner of the platform.")
class User:
    id: strawberry.ID = classified(INTERNAL, M.PSEUDONYM)
    username: str | None = classified(PERSONAL, M.NAME, PROFILE_PURPOSES)
    nickname: str | None = classified(PERSONAL, M.NAME, PROFILE_PURPOSES)
    avatar_url: str | None = classified(
        PERSONAL, M.REDACT, (P.ACCOUNT, P.CUSTOMER_SUPPORT, P.SECURITY)
    )
    region: str | None = classified(
        PERSONAL, M.REGION_PROVINCE, (P.ACCOUNT, P.CUSTOMER_SUPPORT, P.SECURITY, P.ANALYTICS)
    )
    phone: str | None = classified(
        SENSITIVE,
        M.PHONE,
        (
            P.ACCOUNT,
            P.DELIVERY,
            P.CUSTOMER_SUPPORT,
            P.SECURITY,
            P.IDENTITY_VERIFICATION,
            P.MARKETING,
            P.COMPLIANCE,
        ),
    )
    email: str | None = classified(
        PERSONAL,
        M.EMAIL,
        (P.ACCOUNT, P.INVOICING, P.CUSTOMER_SUPPORT, P.MARKETING, P.COMPLIANCE),
    )
    real_name: str | None = classified(
        PERSONAL,
        M.NAME,
        (P.IDENTITY_VERIFICATION, P.ORDER_FULFILLMENT, P.CUSTOMER_SUPPORT, P.COMPLIANCE),
    )
    id_number: str | None = classified(
        SENSITIVE, M.ID_NUMBER, (P.IDENTITY_VERIFICATION,), prohibits=IDENTIFYING
    )
    birth_date: date | None = classified(
        PERSONAL, M.DATE_YEAR, (P.ACCOUNT, P.IDENTITY_VERIFICATION, P.ANALYTICS)
    )
    gender: str | None = classified(PERSONAL, M.REDACT, OPTIONAL_PROFILE)
    job_title: str | None = classified(PERSONAL, M.REDACT, OPTIONAL_PROFILE)
    company: str | None = classified(PERSONAL, M.REDACT, OPTIONAL_PROFILE)
    education: str | None = classified(PERSONAL, M.REDACT, OPTIONAL_PROFILE)
    real_name_verified: bool | None = classified(
        PERSONAL,
        None,
        (P.ACCOUNT, P.IDENTITY_VERIFICATION, P.CUSTOMER_SUPPORT, P.SECURITY),
    )
    created_at: datetime | None = classified(
        PERSONAL, None, (P.ACCOUNT, P.CUSTOMER_SUPPORT, P.SECURITY, P.ANALYTICS)
    )
    devices: list[Device] | None = classified_relation(SENSITIVE, SECURITY, relations.user_devices)
    login_events: list[LoginEvent] | None = classified_relation(
        SENSITIVE, SECURITY, relations.user_login_events
    )
    enrollments: list[Enrollment] | None = classified_relation(
        PERSONAL, LEARNING, relations.user_enrollments
    )
    third_party_logins: list[ThirdPartyLogin] | None = classified_relation(
        PERSONAL, (P.ACCOUNT, P.SECURITY), relations.user_third_party_logins
    )


@strawberry.type(description="One course bought in an order.")
class OrderItem:
    id: strawberry.ID = classified(INTERNAL, M.PSEUDONYM)
    course: Course | None = classified_relation(PERSONAL, TRANSACTION, relations.item_course)
    quantity: int | None = classified(PERSONAL, None, TRANSACTION)
    price_cents: int | None = classified(PERSONAL, None, TRANSACTION)


@strawberry.type(description="An order of courses and printed materials.")
class Order:
    id: strawberry.ID = classified(INTERNAL, M.PSEUDONYM)
    order_no: str | None = classified(PERSONAL, None, TRANSACTION)
    status: str | None = classified(PERSONAL, None, TRANSACTION)
    amount_cents: int | None = classified(PERSONAL, None, TRANSACTION)
    created_at: datetime | None = classified(PERSONAL, M.DATE_MONTH, TRANSACTION)
    items: list[OrderItem] | None = classified_relation(
        PERSONAL, TRANSACTION, relations.order_items
    )
    buyer: User | None = classified_relation(PERSONAL, TRANSACTION, relations.order_buyer)
    buyer_name: str | None = classified(PERSONAL, M.NAME, (P.ORDER_FULFILLMENT, P.CUSTOMER_SUPPORT))
    buyer_phone: str | None = classified(SENSITIVE, M.PHONE, (P.DELIVERY, P.CUSTOMER_SUPPORT))
    buyer_id_number: str | None = classified(
        SENSITIVE, M.ID_NUMBER, (P.IDENTITY_VERIFICATION,), prohibits=IDENTIFYING
    )
    bank_card: str | None = classified(SENSITIVE, M.BANK_CARD, (P.PAYMENT,), prohibits=IDENTIFYING)
    delivery_address: str | None = classified(
        SENSITIVE, M.ADDRESS, (P.DELIVERY, P.CUSTOMER_SUPPORT)
    )
    invoice_title: str | None = classified(PERSONAL, M.REDACT, (P.INVOICING,))
    invoice_tax_id: str | None = classified(PERSONAL, M.REDACT, (P.INVOICING,))
    remarks: str | None = classified(PERSONAL, M.REDACT, (P.ORDER_FULFILLMENT, P.CUSTOMER_SUPPORT))


@strawberry.type(description="A message in a support conversation.")
class TicketMessage:
    id: strawberry.ID = classified(INTERNAL)
    author_kind: str | None = classified(PERSONAL, None, SUPPORT)
    body: str | None = classified(PERSONAL, M.REDACT, SUPPORT)
    created_at: datetime | None = classified(PERSONAL, None, SUPPORT)


@strawberry.type(description="A customer's support request.")
class SupportTicket:
    id: strawberry.ID = classified(INTERNAL)
    subject: str | None = classified(PERSONAL, None, SUPPORT)
    status: str | None = classified(PERSONAL, None, SUPPORT)
    created_at: datetime | None = classified(PERSONAL, None, SUPPORT)
    contact_phone: str | None = classified(SENSITIVE, M.PHONE, SUPPORT)
    contact_email: str | None = classified(PERSONAL, M.EMAIL, SUPPORT)
    messages: list[TicketMessage] | None = classified_relation(
        PERSONAL, SUPPORT, relations.ticket_messages
    )
    order: Order | None = classified_relation(PERSONAL, SUPPORT, relations.ticket_order)


@strawberry.type(
    description="An event of the audit trail: who read or was denied which field of whose"
    " data, for which purpose. It names fields and ids, never a value."
)
class AuditEventView:
    at: datetime | None = classified(INTERNAL, None, AUDIT)
    kind: AuditKind | None = classified(INTERNAL, None, AUDIT)
    principal_kind: str | None = classified(INTERNAL, None, AUDIT)
    principal_roles: list[str] | None = classified(INTERNAL, None, AUDIT)
    partner_id: strawberry.ID | None = classified(INTERNAL, None, AUDIT)
    purpose: str | None = classified(INTERNAL, None, AUDIT)
    operation_name: str | None = classified(INTERNAL, None, AUDIT)
    coordinate: str | None = classified(INTERNAL, None, AUDIT)
    outcome: str | None = classified(INTERNAL, None, AUDIT)
    reason: str | None = classified(INTERNAL, None, AUDIT)
    subjects: list[strawberry.ID] | None = classified(
        PERSONAL, None, AUDIT, description="user ids of the data subjects concerned"
    )
    policy_version: str | None = classified(INTERNAL, None, AUDIT)
    request_id: str | None = classified(INTERNAL, None, AUDIT)


@strawberry.type(
    description="Someone else's access to your data: which role or partner, for which"
    " purpose, which field, when. Staff are named by role, never by name."
)
class AccessLogEntry:
    at: datetime | None = classified(PERSONAL, None, OWN_ACCESS_LOG)
    kind: AuditKind | None = classified(PERSONAL, None, OWN_ACCESS_LOG)
    principal_kind: str | None = classified(PERSONAL, None, OWN_ACCESS_LOG)
    principal_roles: list[str] | None = classified(PERSONAL, None, OWN_ACCESS_LOG)
    partner_id: strawberry.ID | None = classified(PERSONAL, None, OWN_ACCESS_LOG)
    purpose: str | None = classified(PERSONAL, None, OWN_ACCESS_LOG)
    coordinate: str | None = classified(PERSONAL, None, OWN_ACCESS_LOG)
    outcome: str | None = classified(PERSONAL, None, OWN_ACCESS_LOG)


ROW_TYPES: tuple[type, ...] = (
    Course,
    Device,
    LoginEvent,
    ThirdPartyLogin,
    Enrollment,
    User,
    OrderItem,
    Order,
    TicketMessage,
    SupportTicket,
    AuditEventView,
    AccessLogEntry,
)
