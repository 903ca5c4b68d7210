"""Relation fields (``Order.items``, ``User.devices`` …), each batched by a DataLoader.

One DataLoader per producer (a place in the response) and request: the SQL statement count
of an operation depends on its shape, never on the number of rows it returns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement
from strawberry.types import Info

from fieldgate.authz.plans import Producer
from fieldgate.models.tables import devices, enrollments, login_events, messages, third_party_logins
from fieldgate.models.tables import order_items as items
from fieldgate.resolvers.context import RequestContext
from fieldgate.resolvers.sources import SOURCES, disclosed_select

Row = dict[str, Any]


def _select_for(
    ctx: RequestContext, producer: Producer, key_column: ColumnElement[Any], keys: list[Any]
) -> Any:
    source = SOURCES[producer.type_name]
    return (
        disclosed_select(source, producer, ctx.disclosed)
        .where(source.visibility(ctx.principal, ctx.services.policy))
        .where(key_column.in_(keys))
        .order_by(*source.order_by)
    )


async def _many(
    root: Mapping[str, Any],
    info: Info[RequestContext, None],
    *,
    parent_key: str,
    child_key: str,
    key_column: ColumnElement[Any],
) -> list[Row] | None:
    ctx = info.context
    disclosure = ctx.disclosed
    if not disclosure.relation_allowed(info.path, root, info.python_name):
        return None
    producer = disclosure.producer(info.path)

    async def load(keys: list[Any]) -> Sequence[list[Mapping[str, Any]]]:
        rows = await ctx.fetch(_select_for(ctx, producer, key_column, keys))
        grouped: dict[Any, list[Mapping[str, Any]]] = defaultdict(list)
        for row in rows:
            grouped[row[child_key]].append(row)
        return [grouped.get(key, []) for key in keys]

    rows = await ctx.loader(producer.key, load).load(root[parent_key])
    return await disclosure.disclose(info.path, rows)


async def _one(
    root: Mapping[str, Any],
    info: Info[RequestContext, None],
    *,
    parent_key: str,
) -> Row | None:
    ctx = info.context
    disclosure = ctx.disclosed
    if not disclosure.relation_allowed(info.path, root, info.python_name):
        return None
    key = root.get(parent_key)
    if key is None:
        return None
    producer = disclosure.producer(info.path)
    source = SOURCES[producer.type_name]

    async def load(keys: list[Any]) -> Sequence[Mapping[str, Any] | None]:
        rows = await ctx.fetch(_select_for(ctx, producer, source.id_column, keys))
        by_id = {row["_id"]: row for row in rows}
        return [by_id.get(k) for k in keys]

    row = await ctx.loader(producer.key, load).load(key)
    if row is None:
        return None
    return (await disclosure.disclose(info.path, [row]))[0]


async def order_items(root: Row, info: Info[RequestContext, None]) -> list[Row] | None:
    return await _many(
        root, info, parent_key="_id", child_key="_order_id", key_column=items.c.order_id
    )


async def order_buyer(root: Row, info: Info[RequestContext, None]) -> Row | None:
    return await _one(root, info, parent_key="_subject")


async def item_course(root: Row, info: Info[RequestContext, None]) -> Row | None:
    return await _one(root, info, parent_key="_course_id")


async def enrollment_course(root: Row, info: Info[RequestContext, None]) -> Row | None:
    return await _one(root, info, parent_key="_course_id")


async def ticket_order(root: Row, info: Info[RequestContext, None]) -> Row | None:
    return await _one(root, info, parent_key="_order_id")


async def ticket_messages(root: Row, info: Info[RequestContext, None]) -> list[Row] | None:
    return await _many(
        root, info, parent_key="_id", child_key="_ticket_id", key_column=messages.c.ticket_id
    )


async def user_devices(root: Row, info: Info[RequestContext, None]) -> list[Row] | None:
    return await _many(
        root, info, parent_key="_id", child_key="_subject", key_column=devices.c.user_id
    )


async def user_login_events(root: Row, info: Info[RequestContext, None]) -> list[Row] | None:
    return await _many(
        root, info, parent_key="_id", child_key="_subject", key_column=login_events.c.user_id
    )


async def user_enrollments(root: Row, info: Info[RequestContext, None]) -> list[Row] | None:
    return await _many(
        root, info, parent_key="_id", child_key="_subject", key_column=enrollments.c.user_id
    )


async def user_third_party_logins(root: Row, info: Info[RequestContext, None]) -> list[Row] | None:
    return await _many(
        root,
        info,
        parent_key="_id",
        child_key="_subject",
        key_column=third_party_logins.c.user_id,
    )
