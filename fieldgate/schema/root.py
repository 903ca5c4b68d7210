"""The root types: Query and Mutation."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from fieldgate.resolvers import (
    admin,
    audit,
    credentials,
    export,
    mutations,
    orders,
    policy_admin,
    queries,
    rights,
    session,
    tickets,
)
from fieldgate.resolvers.context import RequestContext
from fieldgate.schema.admin import (
    IssuedTokenInfo,
    IssuedTokenPage,
    issued_token_info,
    issued_token_page,
)
from fieldgate.schema.argument_reads import PAGE
from fieldgate.schema.connections import Connection
from fieldgate.schema.directives import resolved
from fieldgate.schema.policy_admin import (
    PolicyChangeResult,
    ShadowDifferenceCount,
    policy_change_result,
    shadow_difference_count,
)
from fieldgate.schema.session import LoginResult
from fieldgate.schema.types import (
    AccessLogEntry,
    AuditEventView,
    Course,
    Order,
    SupportTicket,
    TicketMessage,
    User,
)

Ctx = Info[RequestContext, None]

AUDIT_EVENT_READS = {
    "kind": "AuditEventView.kind",
    "coordinate": "AuditEventView.coordinate",
    "subjectId": "AuditEventView.subjects",
    "since": "AuditEventView.at",
    "until": "AuditEventView.at",
    **PAGE,
}


@strawberry.input(description="Profile changes; omitted fields stay as they are.")
class ProfileInput:
    nickname: str | None = strawberry.UNSET
    avatar_url: str | None = strawberry.UNSET
    region: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    gender: str | None = strawberry.UNSET
    job_title: str | None = strawberry.UNSET
    company: str | None = strawberry.UNSET
    education: str | None = strawberry.UNSET
    real_name: str | None = strawberry.UNSET
    id_number: str | None = strawberry.UNSET


@strawberry.input
class PlaceOrderInput:
    course_ids: list[strawberry.ID]
    delivery_address: str | None = None
    invoice_title: str | None = None
    invoice_tax_id: str | None = None
    remarks: str | None = None


@strawberry.input
class OpenTicketInput:
    subject: str
    body: str
    order_id: strawberry.ID | None = None
    contact_phone: str | None = None
    contact_email: str | None = None


@strawberry.input
class RegisterInput:
    username: str
    password: str
    phone: str | None = None
    email: str | None = None
    nickname: str | None = None


@strawberry.type(
    description="One of your own consents. Served only to the data subject, under RIGHTS."
)
class ConsentRecord:
    purpose: str
    granted_at: datetime
    withdrawn_at: datetime | None
    guardian_consent: bool
    active: bool


async def issued_tokens(
    info: Ctx, subject: str | None = None, first: int | None = None, after: str | None = None
) -> IssuedTokenPage:
    page = await admin.issued_tokens(info, subject, first, after)
    return cast("IssuedTokenPage", issued_token_page(page))


@strawberry.type
class Query:
    me: User | None = resolved(
        queries.me, description="The signed-in user; null for anyone else (anonymous too)."
    )
    user: User | None = resolved(queries.user, reads={"id": "User.id"})
    user_by_id_number: User | None = resolved(
        queries.user_by_id_number,
        reads={"idNumber": "User.idNumber"},
        description="A user by exact ID number (through its blind index); visible rows only.",
    )
    users: Connection[User] = resolved(queries.users, reads=PAGE)
    order: Order | None = resolved(queries.order, reads={"id": "Order.id"})
    orders: Connection[Order] = resolved(queries.orders_, reads={"status": "Order.status", **PAGE})
    course: Course | None = resolved(queries.course, reads={"id": "Course.id"})
    courses: Connection[Course] = resolved(
        queries.courses_, reads={"search": "Course.title", "category": "Course.category", **PAGE}
    )
    ticket: SupportTicket | None = resolved(queries.ticket, reads={"id": "SupportTicket.id"})
    tickets: Connection[SupportTicket] = resolved(
        queries.tickets_, reads={"status": "SupportTicket.status", **PAGE}
    )
    my_consents: list[ConsentRecord] = resolved(
        rights.my_consents, description="Your consents, active and withdrawn."
    )
    audit_events: Connection[AuditEventView] = resolved(
        audit.audit_events_,
        reads=AUDIT_EVENT_READS,
        description="The audit trail (data-protection officer, COMPLIANCE).",
    )

    issued_tokens: IssuedTokenPage = resolved(
        issued_tokens, reads={"subject": "IssuedTokenRecord.subject", **PAGE}
    )
    my_access_log: Connection[AccessLogEntry] = resolved(
        audit.my_access_log, reads=PAGE, description="Who else accessed your data, why, and when."
    )

    @strawberry.field
    def shadow_report(self, info: Ctx) -> list[ShadowDifferenceCount]:
        report = policy_admin.shadow_report(info)
        return cast("list[ShadowDifferenceCount]", [shadow_difference_count(*r) for r in report])


@strawberry.type(
    description="Every payload is nullable: a mutation that fails nulls only its own field, "
    "so a sibling that committed still answers."
)
class Mutation:
    @strawberry.mutation
    async def login(self, info: Ctx, username: str, password: str) -> LoginResult | None:
        return cast("LoginResult", await session.login(info, username, password))

    @strawberry.mutation
    async def logout(self, info: Ctx) -> bool:
        """Revoke the token this request carries."""
        return await session.logout(info)

    @strawberry.mutation
    async def register(self, info: Ctx, input: RegisterInput) -> str | None:
        return await mutations.register(
            info, input.username, input.password, input.phone, input.email, input.nickname
        )

    @strawberry.mutation
    async def update_my_profile(self, info: Ctx, input: ProfileInput) -> User | None:
        changes: dict[str, Any] = {
            name: value for name, value in vars(input).items() if value is not strawberry.UNSET
        }
        return cast("User | None", await mutations.update_my_profile(info, changes))

    @strawberry.mutation
    async def place_order(self, info: Ctx, input: PlaceOrderInput) -> Order | None:
        return cast(
            "Order | None",
            await orders.place_order(
                info,
                [str(c) for c in input.course_ids],
                input.delivery_address,
                input.invoice_title,
                input.invoice_tax_id,
                input.remarks,
            ),
        )

    @strawberry.mutation
    async def open_ticket(self, info: Ctx, input: OpenTicketInput) -> SupportTicket | None:
        return cast(
            "SupportTicket | None",
            await tickets.open_ticket(
                info,
                input.subject,
                input.body,
                str(input.order_id) if input.order_id is not None else None,
                input.contact_phone,
                input.contact_email,
            ),
        )

    @strawberry.mutation
    async def grant_consent(
        self, info: Ctx, purpose: str, guardian_name: str | None = None
    ) -> list[ConsentRecord] | None:
        return cast("list[ConsentRecord]", await rights.grant_consent(info, purpose, guardian_name))

    @strawberry.mutation
    async def withdraw_consent(self, info: Ctx, purpose: str) -> list[ConsentRecord] | None:
        return cast("list[ConsentRecord]", await rights.withdraw_consent(info, purpose))

    @strawberry.mutation
    async def export_my_data(self, info: Ctx, password: str | None = None) -> JSON | None:
        return cast("JSON", await export.export_my_data(info, password))

    @strawberry.mutation
    async def close_my_account(self, info: Ctx, password: str | None = None) -> bool | None:
        return await rights.close_my_account(info, password)

    @strawberry.mutation
    async def change_my_password(self, info: Ctx, current: str, new: str) -> bool | None:
        return await credentials.change_my_password(info, current, new)

    @strawberry.mutation
    async def reply_to_ticket(
        self, info: Ctx, ticket_id: strawberry.ID, body: str
    ) -> TicketMessage | None:
        return cast(
            "TicketMessage | None", await tickets.reply_to_ticket(info, str(ticket_id), body)
        )

    @strawberry.mutation
    async def add_policy_rule(self, info: Ctx, line: str) -> PolicyChangeResult | None:
        change = await policy_admin.add_policy_rule(info, line)
        return cast("PolicyChangeResult", policy_change_result(change))

    @strawberry.mutation
    async def remove_policy_rule(self, info: Ctx, line: str) -> PolicyChangeResult | None:
        change = await policy_admin.remove_policy_rule(info, line)
        return cast("PolicyChangeResult", policy_change_result(change))

    @strawberry.mutation
    async def replace_policy(self, info: Ctx, lines: list[str]) -> PolicyChangeResult | None:
        change = await policy_admin.replace_policy(info, lines)
        return cast("PolicyChangeResult", policy_change_result(change))

    @strawberry.mutation
    async def reload_policy(self, info: Ctx) -> PolicyChangeResult | None:
        change = await policy_admin.reload_policy(info)
        return cast("PolicyChangeResult", policy_change_result(change))

    @strawberry.mutation
    async def set_shadow_policy(self, info: Ctx, lines: list[str]) -> str | None:
        return await policy_admin.set_shadow_policy(info, lines)

    @strawberry.mutation
    async def clear_shadow_policy(self, info: Ctx) -> bool | None:
        return await policy_admin.clear_shadow_policy(info)

    @strawberry.mutation
    async def issue_token(
        self,
        info: Ctx,
        subject: str,
        roles: list[str] | None = None,
        scopes: list[str] | None = None,
        purposes: list[str] | None = None,
        ttl: str | None = None,
        strict: bool = False,
    ) -> IssuedTokenInfo | None:
        grant = await admin.issue_token(
            info,
            subject,
            roles=roles or (),
            scopes=scopes or (),
            purposes=purposes or (),
            ttl=ttl,
            strict=strict,
        )
        return cast("IssuedTokenInfo", issued_token_info(grant))

    @strawberry.mutation
    async def revoke_token(self, info: Ctx, jti: strawberry.ID) -> bool | None:
        return await admin.revoke_token(info, str(jti))

    @strawberry.mutation
    async def revoke_tokens_of(self, info: Ctx, subject: str) -> int:
        return await admin.revoke_tokens_of(info, subject)

    @strawberry.mutation
    async def register_document(
        self,
        info: Ctx,
        document: str,
        name: str | None = None,
        partners: list[str] | None = None,
    ) -> str | None:
        return await admin.register_trusted_document(info, document, name, partners or ())
