"""The measure behind the limits, on the real schema: depth, aliases, directives, root
fields and cost, by hand-counted examples."""

from __future__ import annotations

import pytest
from graphql import OperationDefinitionNode, parse

from fieldgate.schema import build_schema
from fieldgate.schema.shape import CEILING, Pages, Shape, measure

SCHEMA = build_schema()._schema
PAGES = Pages(default=20, cap=100)


def shape(document: str) -> Shape:
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    return measure(SCHEMA, parsed, operation, PAGES)


def test_a_connection_multiplies_its_edges_by_first() -> None:
    # courses 1 + edges (1 + 5 × (node 1 + id 1 + title 1)) + totalCount 1
    found = shape("{ courses(first: 5) { totalCount edges { node { id title } } } }")
    assert found == Shape(fields=1, depth=3, aliases=0, directives=0, cost=1 + 1 + 5 * 3 + 1)


@pytest.mark.parametrize(
    ("first", "rows"), [("", 20), ("(first: 3)", 3), ("(first: 1000)", 100), ("(first: 0)", 1)]
)
def test_pages_default_and_cap(first: str, rows: int) -> None:
    assert shape(f"{{ courses{first} {{ edges {{ node {{ id }} }} }} }}").cost == 2 + rows * 2


def test_a_variable_page_is_costed_at_the_cap() -> None:
    found = shape("query($n: Int) { courses(first: $n) { edges { node { id } } } }")
    assert found.cost == 2 + 100 * 2


def test_plain_lists_count_the_default_page_and_nest() -> None:
    # orders 1 + edges (1 + 2 × (node 1 + items (1 + 20 × (id 1 + course (1 + id 1)))))
    found = shape("{ orders(first: 2) { edges { node { items { id course { id } } } } } }")
    assert found.cost == 1 + 1 + 2 * (1 + 1 + 20 * (1 + 2))
    assert found.depth == 5


def test_aliases_root_fields_and_directives() -> None:
    found = shape(
        "query Q($a: Boolean!) { a: me { id b: username } "
        "c: course(id: 1) { id @include(if: $a) @skip(if: false) } __typename }"
    )
    assert (found.fields, found.aliases, found.directives) == (3, 3, 2)


def test_fragments_count_where_they_are_spread() -> None:
    found = shape(
        "{ courses(first: 4) { edges { node { ...C ...C } } } } "
        "fragment C on Course { x: id @skip(if: false) }"
    )
    # each spread adds id once per row and one alias (counted per spread)
    assert found.cost == 1 + 1 + 4 * (1 + 2)
    assert found.aliases == 2
    assert found.directives == 1


def test_cyclic_and_unknown_fragments_end() -> None:
    found = shape("{ me { ...A ...Missing } } fragment A on User { id ...A }")
    assert found.cost == 2


def test_introspection_adds_no_depth_and_no_rows() -> None:
    found = shape("{ __schema { types { name fields { name type { ofType { name } } } } } }")
    assert found.depth == 0
    assert found.cost == 8  # one per field, lists or not


def test_counts_saturate() -> None:
    fragments = " ".join(
        f"fragment F{i} on Course {{ id ...F{i + 1} ...F{i + 1} }}" for i in range(80)
    )
    found = shape(
        f"{{ courses {{ edges {{ node {{ ...F0 }} }} }} }} {fragments} fragment F80 on Course {{ id }}"
    )
    assert found.cost == CEILING
