"""The account's root mutations: log in, register, correct the profile.

Each is one transaction: a failed mutation changes nothing.

A mutation's payload is a row read back through the same plan as any query, so it is
disclosed by the same rules.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from strawberry.types import Info

from fieldgate.audit.events import Actor, RightsRequest, rights_request_event
from fieldgate.errors import BadUserInput, Conflict, Forbidden
from fieldgate.identity.issuance import SignIn, issue_for_subject
from fieldgate.identity.issuance import login as login_account
from fieldgate.identity.open_account import user_transaction
from fieldgate.identity.passwords import hash_password
from fieldgate.models.tables import staff as staff_table
from fieldgate.models.tables import users
from fieldgate.resolvers.arguments import (
    USERNAME,
    email_argument,
    id_number_argument,
    phone_argument,
    require_user,
    text_argument,
    utc_now,
)
from fieldgate.resolvers.context import RequestContext
from fieldgate.resolvers.queries import data_keyring, lookup

Row = dict[str, Any]
Ctx = Info[RequestContext, None]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def login(info: Ctx, username: str, password: str) -> str:
    """A token for a user or staff member; a user's sign-in is recorded as a login event
    unless the request says Do-Not-Track (``DNT: 1`` or ``Sec-GPC: 1``)."""
    ctx = info.context
    services = ctx.services
    client = ctx.request.client if ctx.request is not None else None
    # recorded with the token, under the user's row lock: a racing close erases both
    sign_in = None if ctx.do_not_track else SignIn(client.host if client is not None else None)
    return await login_account(
        services.engine,
        services.tokens,
        username,
        password,
        ttl=services.settings.token_ttl,
        audit=services.audit,
        sign_in=sign_in,
    )


async def register(
    info: Ctx,
    username: str,
    password: str,
    phone: str | None = None,
    email: str | None = None,
    nickname: str | None = None,
) -> str:
    """Create a user account and return a token for it."""
    services = info.context.services
    if not USERNAME.fullmatch(username):
        raise BadUserInput(
            "username must be 3-32 letters, digits, '_', '.' or '-'", argument="username"
        )
    if not 8 <= len(password) <= 128:
        raise BadUserInput("password must be 8 to 128 characters", argument="password")
    values = {
        "username": username,
        # off the event loop: a slow hash must not stall the transactions of other requests
        "password_hash": await asyncio.to_thread(hash_password, password),
        "phone": phone_argument(phone),
        "email": email_argument(email),
        "nickname": text_argument(nickname, "nickname", 64),
        "real_name_verified": False,
        "created_at": utc_now(),
    }
    async with services.engine.begin() as conn:
        taken = await conn.scalar(
            select(func.count()).select_from(users).where(users.c.username == username)
        )
        taken_by_staff = await conn.scalar(
            select(func.count()).select_from(staff_table).where(staff_table.c.username == username)
        )
        if taken or taken_by_staff:
            raise Conflict("that username is taken", argument="username")
        try:
            await conn.execute(insert(users).values(**values))
        except IntegrityError:  # a racing registration took it: the unique index decides
            raise Conflict("that username is taken", argument="username") from None
    return await issue_for_subject(
        services.engine,
        services.tokens,
        username,
        ttl=services.settings.token_ttl,
        audit=services.audit,
    )


PROFILE_FIELDS = {
    "nickname": 64,
    "avatar_url": 255,
    "region": 64,
    "gender": 16,
    "job_title": 64,
    "company": 128,
    "education": 32,
    "real_name": 64,
}


async def update_my_profile(info: Ctx, changes: dict[str, Any]) -> Row | None:
    """Correct the caller's own profile; a verified real name and ID number stay as they are."""
    user_id = require_user(info)
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if name in PROFILE_FIELDS:
            values[name] = text_argument(value, name, PROFILE_FIELDS[name])
        elif name == "phone":
            values[name] = phone_argument(value)
        elif name == "email":
            values[name] = email_argument(value)
        elif name == "id_number":
            number = id_number_argument(value)
            # stored sealed, with its blind index for exact lookups
            keyring = data_keyring(info)
            values[name] = keyring.encrypt(number) if number is not None else None
            values["id_number_index"] = keyring.blind_index(number) if number is not None else None
    if not values:
        raise BadUserInput("nothing to change")
    async with user_transaction(info.context.services.engine, user_id) as conn:
        verified = await conn.scalar(
            select(users.c.real_name_verified).where(users.c.id == user_id)
        )
        if verified and ({"real_name", "id_number"} & values.keys()):
            raise Forbidden(
                "a verified real name and ID number cannot be changed",
                reason="REAL_NAME_VERIFIED",
            )
        await conn.execute(update(users).where(users.c.id == user_id).values(**values))
        ctx = info.context
        ctx.audit_or_refuse(
            [
                rights_request_event(
                    Actor.of(ctx.principal),
                    user_id,
                    RightsRequest.CORRECTION,
                    request_id=ctx.request_id,
                    fields=sorted(f"User.{_camel(name)}" for name in values),
                )
            ]
        )
    return await lookup(info, "User", user_id)
