"""Relay connection types (``edges { cursor node }``, ``pageInfo``, ``totalCount``)."""

from __future__ import annotations

from typing import Generic, TypeVar

import strawberry

from fieldgate.resolvers.queries import total_count
from fieldgate.schema.directives import resolved

NodeType = TypeVar("NodeType")


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeType]):
    cursor: str
    node: NodeType


@strawberry.type
class Connection(Generic[NodeType]):
    edges: list[Edge[NodeType]]
    page_info: PageInfo
    total_count: int = resolved(total_count)
