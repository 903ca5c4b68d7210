"""The compiled path on a small schema: every leaf kind, nulls, errors, lists and batching.

Each query runs on the general executor (no ``compiled`` on the context) and on the
compiled path (the second run of a plan), and the results must be equal; where the compiled
path cannot answer (an error, a null in a non-null field, an out-of-range Int) the executor
answers instead, and the counters say which happened.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import strawberry
from strawberry.dataloader import DataLoader
from strawberry.schema.config import StrawberryConfig

from fieldgate.authz.plans import CompiledCounts, CompiledRequest
from fieldgate.schema.compiled import FieldgateExecutor


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Context:
    compiled: CompiledRequest | None = None
    restarts: int = 0
    batches: list[list[int]] = field(default_factory=list)
    loader: DataLoader[int, list[dict[str, Any]]] | None = None


ROWS: list[dict[str, Any]] = [
    {
        "id": i,
        "name": f"row {i}" if i % 3 else None,
        "count": i * 10,
        "big": 2**40 if i == 99 else i,
        "ratio": i / 4,
        "flag": bool(i % 2),
        "colour": Colour.RED if i % 2 else Colour.BLUE,
        "when": datetime(2026, 1, i % 28 + 1, tzinfo=UTC),
        "required": "x" if i != 98 else None,
    }
    for i in range(1, 11)
]


@strawberry.type
class Child:
    id: strawberry.ID
    label: str


@strawberry.type
class Row:
    id: strawberry.ID
    name: str | None
    count: int
    ratio: float
    flag: bool
    colour: Colour
    when: datetime
    required: str
    big: int | None

    @strawberry.field
    async def children(self, info: strawberry.Info[Context, None]) -> list[Child]:
        row_id = int(self["id"])  # type: ignore[index]
        loader = info.context.loader
        assert loader is not None
        found = await loader.load(row_id)
        return found  # type: ignore[return-value]


@strawberry.type
class Query:
    @strawberry.field
    def rows(self, first: int = 10) -> list[Row]:
        return ROWS[:first]  # type: ignore[return-value]

    @strawberry.field
    def row(self, id: int) -> Row | None:
        if id == 404:
            raise ValueError("no such row")
        extra = {**ROWS[0], "id": id, "big": 2**40} if id == 99 else None
        missing = {**ROWS[0], "id": id, "required": None} if id == 98 else None
        return (extra or missing or ROWS[id - 1]) if id >= 1 else None  # type: ignore[return-value]


SCHEMA = strawberry.Schema(
    query=Query,
    config=StrawberryConfig(default_resolver=dict.get),
    execution_context_class=FieldgateExecutor,
)


def context() -> Context:
    ctx = Context()

    async def load(keys: list[int]) -> list[list[dict[str, Any]]]:
        ctx.batches.append(list(keys))
        return [[{"id": k * 100 + j, "label": f"{k}.{j}"} for j in range(2)] for k in keys]

    ctx.loader = DataLoader(load_fn=load)
    return ctx


async def both(query: str, variables: dict[str, Any] | None = None) -> tuple[Any, Any, Context]:
    general = await SCHEMA.execute(query, variable_values=variables, context_value=context())
    store: dict[str, Any] = {}
    counts = CompiledCounts()
    ctx = context()

    def restart() -> None:
        ctx.restarts += 1

    ctx.compiled = CompiledRequest(store, restart, counts)
    compiled = await SCHEMA.execute(query, variable_values=variables, context_value=ctx)
    return general, compiled, ctx


def same(general: Any, compiled: Any) -> None:
    assert compiled.data == general.data
    assert [e.formatted for e in compiled.errors or []] == [
        e.formatted for e in general.errors or []
    ]


async def test_every_leaf_kind_is_coerced_as_the_executor_does() -> None:
    query = "{ rows { id name count ratio flag colour when required __typename } }"
    general, compiled, ctx = await both(query)
    same(general, compiled)
    assert ctx.compiled is not None and ctx.compiled.counts.runs == 1
    first = compiled.data["rows"][0]
    assert first["id"] == "1" and first["colour"] == "RED" and first["ratio"] == 0.25


async def test_relations_are_batched_and_ordered() -> None:
    query = "{ rows(first: 6) { id children { id label } n: name } }"
    general, compiled, ctx = await both(query)
    same(general, compiled)
    assert ctx.batches == [[1, 2, 3, 4, 5, 6]]  # one batch, as on the executor
    assert list(compiled.data["rows"][0]) == ["id", "children", "n"]


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("{ row(id: 404) { id } }", "a resolver raises"),
        ("{ row(id: 98) { id required } }", "null in a non-null field"),
        ("{ row(id: 99) { id big } }", "an Int out of range"),
    ],
)
async def test_errors_are_the_executors(query: str, reason: str) -> None:
    general, compiled, ctx = await both(query)
    assert general.errors, reason
    same(general, compiled)
    assert ctx.compiled is not None
    assert (ctx.compiled.counts.runs, ctx.compiled.counts.fallbacks) == (0, 1), reason
    assert ctx.restarts == 1  # a fresh disclosure context for the executor


async def test_a_null_object_and_variables() -> None:
    general, compiled, _ = await both("query($i: Int!) { row(id: $i) { id } }", {"i": 0})
    same(general, compiled)
    assert compiled.data == {"row": None}
    general, compiled, _ = await both("query($i: Int!) { row(id: $i) { id name } }", {"i": 3})
    same(general, compiled)
    assert compiled.data == {"row": {"id": "3", "name": None}}


async def test_mutations_and_introspection_are_not_compiled() -> None:
    general, compiled, ctx = await both("{ __schema { queryType { name } } rows { id } }")
    same(general, compiled)
    assert ctx.compiled is not None
    assert ctx.compiled.counts.unsupported == 1 and ctx.compiled.store["query"] is None
