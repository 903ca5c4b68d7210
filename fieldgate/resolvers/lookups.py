"""Looking a row up by its id: as given, or by the pseudonym its caller receives.

A principal that receives a type's ``id`` as a pseudonym (the plan's decision on the
``id`` argument, ``fieldgate.authz.arguments``) looks rows up by that pseudonym only: a raw
id is not found, so the lookup cannot map raw ids to pseudonyms.
"""

from __future__ import annotations

from sqlalchemy import select
from strawberry.types import Info

from fieldgate.authz.arguments import ArgumentUse
from fieldgate.authz.denials import path_key
from fieldgate.errors import NotFound
from fieldgate.resolvers.context import RequestContext
from fieldgate.resolvers.identifiers import largest_id
from fieldgate.resolvers.identifiers import row_id as id_in_range
from fieldgate.resolvers.sources import SOURCES

Ctx = Info[RequestContext, None]


def parse_id(raw: str | int, type_name: str, argument: str | None = None) -> int:
    """A row id from a GraphQL ID; an id that cannot name a row (not an ASCII number, or
    past its column's range) is simply not found, like an unknown one."""
    value = id_in_range(raw, largest_id(SOURCES[type_name].id_column))
    if value is None:
        extensions = {"argument": argument} if argument is not None else {}
        raise NotFound(f"{type_name} not found", **extensions)
    return value


async def row_id(info: Ctx, raw: str | int, type_name: str) -> int:
    """The id of the row the field's ``id`` argument names, for this principal."""
    plan = info.context.disclosed.plan
    decision = plan.argument(path_key(info.path), "id")
    if decision is None or decision.use is not ArgumentUse.PSEUDONYM:
        return parse_id(raw, type_name)
    return await _id_of_pseudonym(info, str(raw), type_name)


async def _id_of_pseudonym(info: Ctx, pseudonym: str, type_name: str) -> int:
    # A pseudonym has no way back: the visible ids are given the pseudonyms this principal
    # receives for them (its recipient's key, as disclosure does), and compared (one
    # indexed column, a few microseconds a row).
    ctx = info.context
    pseudonyms = ctx.services.pseudonyms
    source = SOURCES[type_name]
    statement = (
        select(source.id_column.label("id"))
        .select_from(source.from_clause)
        .where(source.visibility(ctx.principal, ctx.services.policy))
    )
    for row in await ctx.fetch(statement):
        if pseudonyms.pseudonym_for(ctx.principal, type_name, row["id"]) == pseudonym:
            return int(row["id"])
    raise NotFound(f"{type_name} not found")
