"""The data subject's rights: consents and closing the account (the export is
``resolvers.export``).

These operations act only on the caller's own data (the principal's user id, never an
argument), which is what the purpose RIGHTS means; each is one transaction.

One module because it is one concept: the rights a data subject exercises over their own
data, which share the caller check and the audit events.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, exists, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from fieldgate.audit.events import (
    Actor,
    AuditEvent,
    ConsentChange,
    RightsRequest,
    consent_change_event,
    rights_request_event,
)
from fieldgate.authz.consent import CROSS_BORDER, age_on
from fieldgate.authz.purposes import Purpose
from fieldgate.errors import BadUserInput, Conflict, NotFound
from fieldgate.identity.open_account import claim_closure, lock_open_user, user_transaction
from fieldgate.identity.step_up import confirm_password
from fieldgate.infra.db import write_transaction
from fieldgate.models.tables import (
    ACCOUNT_ROWS,
    ORDER_PERSONAL_COLUMNS,
    consents,
    messages,
    orders,
    tickets,
    users,
)
from fieldgate.models.tables import issued_tokens as tokens
from fieldgate.resolvers.arguments import require_user
from fieldgate.resolvers.context import RequestContext

Ctx = Info[RequestContext, None]

# Purposes a data subject can opt in to (the others rest on contract or law, not consent).
CONSENTABLE = frozenset(
    {
        Purpose.MARKETING.value,
        Purpose.PERSONALISATION.value,
        Purpose.RESEARCH.value,
        Purpose.IDENTITY_VERIFICATION.value,
        CROSS_BORDER,
    }
)


def _now() -> datetime:
    return datetime.now(UTC)


def _audit(info: Ctx, events: list[AuditEvent]) -> None:
    info.context.audit_or_refuse(events)


def _consent_event(info: Ctx, user_id: int, purpose: str, change: ConsentChange) -> AuditEvent:
    ctx = info.context
    return consent_change_event(
        Actor.of(ctx.principal), user_id, purpose, change, request_id=ctx.request_id
    )


def _rights_event(info: Ctx, user_id: int, request: RightsRequest) -> AuditEvent:
    ctx = info.context
    return rights_request_event(
        Actor.of(ctx.principal), user_id, request, request_id=ctx.request_id
    )


def _consentable(purpose: str) -> str:
    if purpose not in CONSENTABLE:
        raise BadUserInput(
            f"consent is not asked for {purpose}; one of {sorted(CONSENTABLE)}", argument="purpose"
        )
    return purpose


def consent_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "purpose": row["purpose"],
        "granted_at": row["granted_at"],
        "withdrawn_at": row["withdrawn_at"],
        "guardian_consent": row["guardian_consent"],
        "active": row["withdrawn_at"] is None,
    }


async def _consent_rows(conn: AsyncConnection, user_id: int) -> list[dict[str, Any]]:
    rows = (
        await conn.execute(
            select(consents).where(consents.c.user_id == user_id).order_by(consents.c.id)
        )
    ).mappings()
    return [consent_view(row) for row in rows]


async def my_consents(info: Ctx) -> list[dict[str, Any]]:
    user_id = require_user(info)
    async with info.context.services.engine.connect() as conn:
        return await _consent_rows(conn, user_id)


async def grant_consent(
    info: Ctx, purpose: str, guardian_name: str | None = None
) -> list[dict[str, Any]]:
    """Opt in to ``purpose``; a minor's consent counts only with a guardian's name."""
    user_id = require_user(info)
    purpose = _consentable(purpose)
    async with user_transaction(info.context.services.engine, user_id) as conn:
        # the user's row is locked: grants of one user run one after the other
        birth = await conn.scalar(select(users.c.birth_date).where(users.c.id == user_id))
        minor = (age_on(birth, _now().date()) or 99) < 18
        guardian = (guardian_name or "").strip() or None
        if guardian is not None and not minor:
            raise BadUserInput("a guardian consents only for a minor", argument="guardianName")
        active = exists().where(
            consents.c.user_id == user_id,
            consents.c.purpose == purpose,
            consents.c.withdrawn_at.is_(None),
        )
        # inserted only if none is active; the partial unique index is the last word
        granted = select(
            literal(user_id),
            literal(purpose),
            literal(_now(), consents.c.granted_at.type),
            literal(guardian is not None),
            literal(guardian, consents.c.guardian_name.type),
        ).where(~active)
        columns = ["user_id", "purpose", "granted_at", "guardian_consent", "guardian_name"]
        try:
            inserted = (await conn.execute(insert(consents).from_select(columns, granted))).rowcount
        except IntegrityError:  # one active consent per user and purpose: a unique index
            inserted = 0
        if inserted != 1:
            raise Conflict(f"consent to {purpose} is already active", argument="purpose")
        _audit(info, [_consent_event(info, user_id, purpose, ConsentChange.GRANTED)])
        return await _consent_rows(conn, user_id)


async def withdraw_consent(info: Ctx, purpose: str) -> list[dict[str, Any]]:
    """Withdraw an active consent; it takes effect on the next request, on every instance."""
    user_id = require_user(info)
    purpose = _consentable(purpose)
    async with user_transaction(info.context.services.engine, user_id) as conn:
        result = await conn.execute(
            update(consents)
            .where(
                consents.c.user_id == user_id,
                consents.c.purpose == purpose,
                consents.c.withdrawn_at.is_(None),
            )
            .values(withdrawn_at=_now())
        )
        if result.rowcount == 0:
            raise NotFound(f"no active consent to {purpose}", argument="purpose")
        _audit(info, [_consent_event(info, user_id, purpose, ConsentChange.WITHDRAWN)])
        return await _consent_rows(conn, user_id)


async def close_my_account(info: Ctx, password: str | None = None) -> bool:
    """Erase the caller's personal data in one transaction; orders stay, de-identified.

    Profile fields are erased, devices, login events, third-party logins, learning records
    and consents deleted, orders keep only what accounting needs, tickets lose their
    contact data and conversation, and every token of the account is revoked. The audit
    trail holds no values and stays as it is. ``password`` is the step-up proof.
    """
    user_id = require_user(info)
    now = _now()
    async with write_transaction(info.context.services.engine) as conn:
        # the open account's row first (a close that lost the race: ACCOUNT_CLOSED, whatever
        # password it carried), then the password under that lock, then the claim by one
        # conditional update
        await lock_open_user(conn, user_id)
        await confirm_password(conn, user_id, password)
        await claim_closure(conn, user_id, now)
        for table in ACCOUNT_ROWS:
            await conn.execute(delete(table).where(table.c.user_id == user_id))
        await conn.execute(
            update(orders)
            .where(orders.c.user_id == user_id)
            .values(dict.fromkeys(ORDER_PERSONAL_COLUMNS))
        )
        ticket_ids = select(tickets.c.id).where(tickets.c.user_id == user_id)
        await conn.execute(delete(messages).where(messages.c.ticket_id.in_(ticket_ids)))
        await conn.execute(
            update(tickets)
            .where(tickets.c.user_id == user_id)
            .values(subject="(closed account)", contact_phone=None, contact_email=None)
        )
        await conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(
                username=f"closed-{secrets.token_hex(8)}",
                password_hash="!",
                nickname=None,
                avatar_url=None,
                region=None,
                phone=None,
                email=None,
                real_name=None,
                id_number=None,
                id_number_index=None,
                birth_date=None,
                gender=None,
                job_title=None,
                company=None,
                education=None,
                real_name_verified=False,
                verified_at=None,
                face_template=None,
            )
        )
        await conn.execute(
            update(tokens)
            .where(tokens.c.subject == f"user:{user_id}", tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        _audit(info, [_rights_event(info, user_id, RightsRequest.ERASURE)])
    return True
