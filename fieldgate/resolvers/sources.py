"""Where the rows of each GraphQL row type come from (which of them a principal sees is
:mod:`fieldgate.resolvers.scopes`).

Row visibility is SQL: every query for a row type carries the filter of the principal's row
scopes (from the policy), so invisible rows never leave the database. Only the columns a
plan may disclose are selected; hidden keys (``_id``, ``_subject``, ``_assignee`` and the
foreign keys relations follow) travel with each row but are never fields of the schema.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.sql import FromClause

from fieldgate.authz.disclosure import BORN_KEY, DisclosureContext
from fieldgate.authz.plans import Producer
from fieldgate.authz.policy import Policy
from fieldgate.authz.principal import Principal
from fieldgate.models.tables import (
    audit_events,
    audit_subjects,
    courses,
    devices,
    enrollments,
    login_events,
    messages,
    orders,
    third_party_logins,
    tickets,
    users,
)
from fieldgate.models.tables import order_items as items
from fieldgate.resolvers.scopes import (
    ScopeFilter,
    catalogue_filter,
    order_filter,
    own_access_log,
    owned_by,
    ticket_filter,
)


@dataclass(frozen=True)
class RowSource:
    """The SQL side of one row type."""

    type_name: str
    from_clause: FromClause
    id_column: ColumnElement[int]
    columns: Mapping[str, ColumnElement[object]]
    hidden: Mapping[str, ColumnElement[object]]
    scope_filter: ScopeFilter
    order_by: tuple[ColumnElement[object], ...] = field(default=())

    def visibility(self, principal: Principal, policy: Policy) -> ColumnElement[bool]:
        """The rows of this type the principal may see at all (fail closed: none)."""
        scopes = policy.row_scopes(principal.roles, self.type_name)
        if not scopes:
            return false()
        clauses = [self.scope_filter(scope, principal, policy) for scope in sorted(scopes)]
        combined: ColumnElement[bool] = or_(*clauses)
        return combined

    def select(self, attributes: Iterable[str], *, subject_born: bool = False) -> Select[Any]:
        """Select the hidden keys and exactly these attributes (nothing the plan denies);
        with ``subject_born``, the data subject's birth date too (``BORN_KEY``)."""
        wanted = [self.columns[a].label(a) for a in attributes if a in self.columns]
        hidden = [column.label(name) for name, column in self.hidden.items()]
        columns: list[Any] = [*hidden, *wanted]
        subject = self.hidden.get("_subject")
        if subject_born and subject is not None:
            columns.append(_birth_date_of(subject).label(BORN_KEY))
        return select(*columns).select_from(self.from_clause)


def disclosed_select(
    source: RowSource, producer: Producer | None, disclosure: DisclosureContext
) -> Select[Any]:
    """What rows produced at ``producer`` are read with: the columns its plan may disclose,
    and the subjects' birth dates when their ages are all the disclosure needs."""
    if producer is None:
        return source.select([])
    born = disclosure.wants_birth_dates(producer)
    return source.select(producer.readable_attributes(), subject_born=born)


_subject_users = users.alias("subject_user")


def _birth_date_of(subject: ColumnElement[object]) -> ColumnElement[object]:
    """The birth date of the user ``subject`` holds: the row's own, or one lookup by key."""
    if subject is users.c.id:
        birth_date: ColumnElement[object] = users.c.birth_date
        return birth_date
    lookup = select(_subject_users.c.birth_date).where(_subject_users.c.id == subject)
    return lookup.scalar_subquery()


def _plain(table: FromClause, *names: str) -> dict[str, ColumnElement[object]]:
    return {name: table.c[name] for name in names}


def _build_sources() -> dict[str, RowSource]:
    return {
        "User": RowSource(
            "User",
            users,
            users.c.id,
            {
                "id": users.c.id,
                **_plain(
                    users,
                    "username",
                    "nickname",
                    "avatar_url",
                    "region",
                    "phone",
                    "email",
                    "real_name",
                    "id_number",
                    "birth_date",
                    "gender",
                    "job_title",
                    "company",
                    "education",
                    "real_name_verified",
                    "created_at",
                ),
            },
            {"_id": users.c.id, "_subject": users.c.id},
            owned_by(users.c.id),
            (users.c.id,),
        ),
        "Order": RowSource(
            "Order",
            orders,
            orders.c.id,
            _plain(
                orders,
                "id",
                "order_no",
                "status",
                "amount_cents",
                "created_at",
                "buyer_name",
                "buyer_phone",
                "buyer_id_number",
                "bank_card",
                "delivery_address",
                "invoice_title",
                "invoice_tax_id",
                "remarks",
            ),
            {"_id": orders.c.id, "_subject": orders.c.user_id},
            order_filter,
            (orders.c.id,),
        ),
        "OrderItem": RowSource(
            "OrderItem",
            items.join(orders, orders.c.id == items.c.order_id),
            items.c.id,
            _plain(items, "id", "quantity", "price_cents"),
            {
                "_id": items.c.id,
                "_subject": orders.c.user_id,
                "_order_id": items.c.order_id,
                "_course_id": items.c.course_id,
            },
            order_filter,
            (items.c.id,),
        ),
        "Course": RowSource(
            "Course",
            courses,
            courses.c.id,
            _plain(
                courses,
                "id",
                "title",
                "category",
                "description",
                "teacher",
                "price_cents",
                "ships_materials",
                "created_at",
            ),
            {"_id": courses.c.id},
            catalogue_filter,
            (courses.c.id,),
        ),
        "SupportTicket": RowSource(
            "SupportTicket",
            tickets,
            tickets.c.id,
            _plain(
                tickets, "id", "subject", "status", "created_at", "contact_phone", "contact_email"
            ),
            {
                "_id": tickets.c.id,
                "_subject": tickets.c.user_id,
                "_assignee": tickets.c.assigned_staff_id,
                "_order_id": tickets.c.order_id,
            },
            ticket_filter,
            (tickets.c.id,),
        ),
        "TicketMessage": RowSource(
            "TicketMessage",
            messages.join(tickets, tickets.c.id == messages.c.ticket_id),
            messages.c.id,
            _plain(messages, "id", "author_kind", "body", "created_at"),
            {
                "_id": messages.c.id,
                "_subject": tickets.c.user_id,
                "_assignee": tickets.c.assigned_staff_id,
                "_ticket_id": messages.c.ticket_id,
            },
            ticket_filter,
            (messages.c.id,),
        ),
        "Enrollment": RowSource(
            "Enrollment",
            enrollments,
            enrollments.c.id,
            _plain(enrollments, "id", "progress", "study_minutes", "completed", "enrolled_at"),
            {
                "_id": enrollments.c.id,
                "_subject": enrollments.c.user_id,
                "_course_id": enrollments.c.course_id,
            },
            owned_by(enrollments.c.user_id),
            (enrollments.c.id,),
        ),
        "Device": RowSource(
            "Device",
            devices,
            devices.c.id,
            _plain(devices, "id", "model", "os", "imei", "mac", "ip", "last_seen_at"),
            {"_id": devices.c.id, "_subject": devices.c.user_id},
            owned_by(devices.c.user_id),
            (devices.c.id,),
        ),
        "LoginEvent": RowSource(
            "LoginEvent",
            login_events,
            login_events.c.id,
            _plain(login_events, "id", "ip", "city", "at", "succeeded"),
            {"_id": login_events.c.id, "_subject": login_events.c.user_id},
            owned_by(login_events.c.user_id),
            (login_events.c.id,),
        ),
        "ThirdPartyLogin": RowSource(
            "ThirdPartyLogin",
            third_party_logins,
            third_party_logins.c.id,
            _plain(third_party_logins, "id", "provider", "external_nickname", "bound_at"),
            {"_id": third_party_logins.c.id, "_subject": third_party_logins.c.user_id},
            owned_by(third_party_logins.c.user_id),
            (third_party_logins.c.id,),
        ),
        "AuditEventView": RowSource(
            "AuditEventView",
            audit_events,
            audit_events.c.seq,
            _plain(
                audit_events,
                "at",
                "kind",
                "principal_kind",
                "principal_roles",
                "partner_id",
                "purpose",
                "operation_name",
                "coordinate",
                "outcome",
                "reason",
                "subjects",
                "policy_version",
                "request_id",
            ),
            {"_id": audit_events.c.seq},
            catalogue_filter,  # the whole trail or nothing
            (audit_events.c.seq,),
        ),
        "AccessLogEntry": RowSource(
            "AccessLogEntry",
            audit_subjects.join(audit_events, audit_events.c.subjects_seq == audit_subjects.c.seq),
            audit_events.c.seq,
            _plain(
                audit_events,
                "at",
                "kind",
                "principal_kind",
                "principal_roles",
                "partner_id",
                "purpose",
                "coordinate",
                "outcome",
            ),
            {"_id": audit_events.c.seq, "_subject": audit_subjects.c.user_id},
            own_access_log,
            (audit_events.c.seq,),
        ),
    }


SOURCES: Mapping[str, RowSource] = _build_sources()
