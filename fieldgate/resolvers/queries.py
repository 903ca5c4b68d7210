"""Root query fields: lookups by id and connections, all filtered by row visibility in SQL."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import strawberry
from sqlalchemy import ColumnElement, Select, func, select
from strawberry.types import Info

from fieldgate.authz.denials import path_key
from fieldgate.crypto.keyring import Keyring
from fieldgate.errors import BadUserInput, NotFound
from fieldgate.models.tables import courses, orders, tickets
from fieldgate.models.tables import users as users_table
from fieldgate.resolvers.context import RequestContext
from fieldgate.resolvers.lookups import parse_id, row_id
from fieldgate.resolvers.pagination import connection, page_size
from fieldgate.resolvers.sources import SOURCES, disclosed_select

Row = dict[str, Any]
Ctx = Info[RequestContext, None]


async def lookup(info: Ctx, type_name: str, row_id: int) -> Row:
    """One visible row by id, shaped; an invisible row is exactly as absent as a missing one."""
    ctx = info.context
    disclosure = ctx.disclosed
    source = SOURCES[type_name]
    producer = disclosure.plan.producer(path_key(info.path))
    statement = (
        disclosed_select(source, producer, disclosure)
        .where(source.visibility(ctx.principal, ctx.services.policy))
        .where(source.id_column == row_id)
    )
    rows = await ctx.fetch(statement)
    if not rows:
        raise NotFound(f"{type_name} not found")
    if producer is None:
        return {}
    return (await disclosure.disclose(info.path, rows))[0]


async def list_rows(
    info: Ctx,
    type_name: str,
    *,
    first: int | None,
    after: str | None,
    where: Iterable[ColumnElement[bool]] = (),
) -> Row:
    """A page of visible rows as a Relay connection."""
    ctx = info.context
    disclosure = ctx.disclosed
    source = SOURCES[type_name]
    limit = page_size(first, ctx.services.settings.max_page_size)
    cursors = ctx.services.pseudonyms.cursors(ctx.principal)
    after_id = cursors.decode(after) if after is not None else None
    conditions = [source.visibility(ctx.principal, ctx.services.policy), *where]
    count: Select[Any] = select(func.count()).select_from(source.from_clause).where(*conditions)
    producer = disclosure.plan.producer(path_key(info.path))
    statement = disclosed_select(source, producer, disclosure).where(*conditions)
    if after_id is not None:
        statement = statement.where(source.id_column > after_id)
    raw = await ctx.fetch(statement.order_by(source.id_column).limit(limit + 1))
    shaped = await disclosure.disclose(info.path, raw[:limit]) if producer else [{} for _ in raw]
    return connection(
        shaped, raw, limit=limit, after=after_id, count=count, encode_cursor=cursors.encode
    )


async def total_count(root: Row, info: Ctx) -> int:
    """``totalCount`` of a connection: one COUNT with the same visibility filter."""
    async with info.context.services.engine.connect() as conn:
        return int((await conn.execute(root["_count"])).scalar_one())


async def me(info: Ctx) -> Row | None:
    user_id = info.context.principal.user_id
    if user_id is None:
        return None
    return await lookup(info, "User", user_id)


async def user(info: Ctx, id: strawberry.ID) -> Row | None:
    return await lookup(info, "User", await row_id(info, id, "User"))


def data_keyring(info: Ctx) -> Keyring:
    """The application's data keyring."""
    return info.context.services.keyring


async def user_by_id_number(info: Ctx, id_number: str) -> Row | None:
    """One user by exact ID number, through its blind index; visibility as for ``user``.

    The argument is a secret: it is turned into its keyed index at once, and is neither
    logged nor repeated in an error.
    """
    ctx = info.context
    if ctx.request is not None and ctx.request.method == "GET":
        # a URL is kept by browsers, proxies and access logs
        raise BadUserInput("send userByIdNumber with POST: its argument is a secret")
    index = data_keyring(info).blind_index(id_number)
    statement = (
        select(users_table.c.id.label("id"))
        .where(users_table.c.id_number_index == index)
        .where(SOURCES["User"].visibility(ctx.principal, ctx.services.policy))
        .order_by(users_table.c.id)
        .limit(1)
    )
    found = await ctx.fetch(statement)
    if not found:
        raise NotFound("User not found")
    subject = int(found[0]["id"])
    # The argument is a read of User.idNumber: where the data subject's say withholds that
    # value (no consent to identity verification, a minor without a guardian's), it is no
    # key either, and the row is as absent as a missing one.
    disclosed = ctx.disclosed
    gates = disclosed.gates
    if gates is not None:
        await disclosed.known.know([subject])
        if gates.reason("User.idNumber", subject, disclosed.facts.get(subject)) is not None:
            raise NotFound("User not found")
    return await lookup(info, "User", subject)


async def users(info: Ctx, first: int | None = None, after: str | None = None) -> Row:
    return await list_rows(info, "User", first=first, after=after)


async def order(info: Ctx, id: strawberry.ID) -> Row | None:
    return await lookup(info, "Order", await row_id(info, id, "Order"))


async def orders_(
    info: Ctx, first: int | None = None, after: str | None = None, status: str | None = None
) -> Row:
    where = [orders.c.status == status] if status is not None else []
    return await list_rows(info, "Order", first=first, after=after, where=where)


async def course(info: Ctx, id: strawberry.ID) -> Row | None:
    return await lookup(info, "Course", parse_id(id, "Course"))


async def courses_(
    info: Ctx,
    search: str | None = None,
    category: str | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Row:
    where: list[ColumnElement[bool]] = []
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(courses.c.title.ilike(f"%{escaped}%", escape="\\"))
    if category:
        where.append(courses.c.category == category)
    return await list_rows(info, "Course", first=first, after=after, where=where)


async def ticket(info: Ctx, id: strawberry.ID) -> Row | None:
    return await lookup(info, "SupportTicket", await row_id(info, id, "SupportTicket"))


async def tickets_(
    info: Ctx, first: int | None = None, after: str | None = None, status: str | None = None
) -> Row:
    where = [tickets.c.status == status] if status is not None else []
    return await list_rows(info, "SupportTicket", first=first, after=after, where=where)
