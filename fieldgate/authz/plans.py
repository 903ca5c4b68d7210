"""Plans: the per-operation decision table, compiled once and cached.

Compiling walks the operation's selections with the schema's types. Every field that
produces rows (a row type, a list of rows, or a connection of rows) becomes a *producer*,
keyed by its response path without list indices (``("orders", "edges", "node", "items")``),
which is what a resolver finds in ``info.path``. A producer knows which fields of its rows
the operation selects, the compiled rule of each, and the selections to report when a rule
denies. Per value, disclosure is then a dictionary lookup and, when masked, one call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cachetools import LRUCache
from graphql import (
    BooleanValueNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_list_type,
    is_non_null_type,
)

from fieldgate.authz.classification import Catalog
from fieldgate.authz.decisions import Disclosure, FieldRule

INDEX = -1
"""Stands for a list index in a producer's ``row_prefix``."""

PathKey = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Selection:
    """One field selection in the document: what a denial error is reported against."""

    response_key: str
    coordinate: str
    attribute: str


@dataclass(slots=True)
class Producer:
    """The rows produced at one place of the response, and what to do with their fields."""

    key: PathKey
    type_name: str
    row_prefix: tuple[str | int, ...]
    rules: dict[str, FieldRule] = field(default_factory=dict)
    selections: list[Selection] = field(default_factory=list)

    @property
    def is_conditional(self) -> bool:
        return any(not rule.is_static for rule in self.rules.values())

    def readable_attributes(self) -> list[str]:
        """Attributes some row may disclose: the only columns worth reading."""
        return [
            attribute
            for attribute, rule in self.rules.items()
            if any(o.disclosure is not Disclosure.DENIED for o in rule.possible())
        ]


@dataclass(frozen=True, slots=True)
class Plan:
    """The compiled decisions of one operation for one (roles, scopes, purpose, policy)."""

    purpose: str | None
    policy_version: str
    producers: Mapping[PathKey, Producer]
    rules: Mapping[str, FieldRule]
    # the operation compiled for this plan (``fieldgate.schema.compiled``), filled on reuse
    compiled: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def producer(self, key: PathKey) -> Producer | None:
        return self.producers.get(key)

    def coordinates(self, disclosure: Disclosure) -> list[str]:
        """Coordinates whose rule can end in ``disclosure`` (for ``extensions.disclosure``)."""
        return sorted(
            c
            for c, rule in self.rules.items()
            if any(o.disclosure is disclosure for o in rule.possible())
        )


Decide = Callable[[str], FieldRule]


class _Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        catalog: Catalog,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        decide: Decide,
    ) -> None:
        self.schema = schema
        self.catalog = catalog
        self.fragments = fragments
        self.variables = variables
        self.decide = decide
        self.rules: dict[str, FieldRule] = {}
        self.producers: dict[PathKey, Producer] = {}

    def rule(self, coordinate: str) -> FieldRule:
        if coordinate not in self.rules:
            self.rules[coordinate] = self.decide(coordinate)
        return self.rules[coordinate]

    def included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        """Apply ``@skip``/``@include`` with the request's variables."""
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            condition = next(
                (a.value for a in directive.arguments or () if a.name.value == "if"), None
            )
            if isinstance(condition, BooleanValueNode):
                value = condition.value
            elif isinstance(condition, VariableNode):
                value = bool(self.variables.get(condition.name.value))
            else:
                continue
            if value is (name == "skip"):
                return False
        return True

    def walk(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLObjectType,
        path: PathKey,
        producer: Producer | None,
        visited: frozenset[str] = frozenset(),
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if self.included(selection):
                    self.visit_field(selection, parent, path, producer, visited)
            elif isinstance(selection, InlineFragmentNode):
                if self.included(selection):
                    self.walk(selection.selection_set, parent, path, producer, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in visited and self.included(selection):
                    self.walk(fragment.selection_set, parent, path, producer, visited | {name})

    def visit_field(
        self,
        node: FieldNode,
        parent: GraphQLObjectType,
        path: PathKey,
        producer: Producer | None,
        visited: frozenset[str],
    ) -> None:
        name = node.name.value
        if name.startswith("__"):
            return
        definition = parent.fields.get(name)
        if definition is None:  # validation already refused unknown fields
            return
        response_key = node.alias.value if node.alias else name
        here = (*path, response_key)
        coordinate = f"{parent.name}.{name}"
        if producer is not None and parent.name in self.catalog.row_types:
            classification = self.catalog.classifications[coordinate]
            producer.rules[classification.attribute] = self.rule(coordinate)
            producer.selections.append(
                Selection(response_key, coordinate, classification.attribute)
            )
        if node.selection_set is None:
            return
        named = get_named_type(definition.type)
        if not isinstance(named, GraphQLObjectType):
            return
        if named.name in self.catalog.row_types:
            inner = (
                definition.type.of_type if is_non_null_type(definition.type) else definition.type
            )
            prefix: tuple[str | int, ...] = (INDEX,) if is_list_type(inner) else ()
            child = self.producers.setdefault(here, Producer(here, named.name, prefix))
            self.walk(node.selection_set, named, here, child, visited)
        elif named.name in self.catalog.connections:
            node_type = self.schema.get_type(self.catalog.connections[named.name])
            assert isinstance(node_type, GraphQLObjectType)
            self.walk_connection(node.selection_set, named, here, node_type, visited)
        else:
            self.walk(node.selection_set, named, here, None, visited)

    def walk_connection(
        self,
        selection_set: SelectionSetNode,
        connection: GraphQLObjectType,
        path: PathKey,
        node_type: GraphQLObjectType,
        visited: frozenset[str],
    ) -> None:
        """Find ``edges { node { … } }`` under a connection field, through fragments too.

        Aliased ``edges``/``node`` selections feed the same producer: the rows are the same,
        only the place of the first row in the response (``row_prefix``) follows the first.
        """
        producer: Producer | None = self.producers.get(path)
        for edges_path, edges_node, edge_type in self.fields_named(
            selection_set, connection, path, "edges", visited
        ):
            for node_path, node_node, _ in self.fields_named(
                edges_node, edge_type, edges_path, "node", visited
            ):
                if producer is None:
                    prefix = (edges_path[-1], INDEX, node_path[-1])
                    producer = Producer(path, node_type.name, prefix)
                    self.producers[path] = producer
                self.walk(node_node, node_type, node_path, producer, visited)

    def fields_named(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLObjectType,
        path: PathKey,
        wanted: str,
        visited: frozenset[str],
    ) -> list[tuple[PathKey, SelectionSetNode, GraphQLObjectType]]:
        found: list[tuple[PathKey, SelectionSetNode, GraphQLObjectType]] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if (
                    selection.name.value == wanted
                    and selection.selection_set
                    and self.included(selection)
                ):
                    key = selection.alias.value if selection.alias else wanted
                    named = get_named_type(parent.fields[wanted].type)
                    assert isinstance(named, GraphQLObjectType)
                    found.append(((*path, key), selection.selection_set, named))
            elif isinstance(selection, InlineFragmentNode):
                if self.included(selection):
                    found.extend(
                        self.fields_named(selection.selection_set, parent, path, wanted, visited)
                    )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in visited and self.included(selection):
                    found.extend(
                        self.fields_named(
                            fragment.selection_set, parent, path, wanted, visited | {name}
                        )
                    )
        return found


def compile_plan(
    schema: GraphQLSchema,
    catalog: Catalog,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    *,
    purpose: str | None,
    policy_version: str,
    decide: Decide,
) -> Plan:
    """Walk the operation once and decide every classified coordinate it selects."""
    root = schema.get_root_type(operation.operation)
    assert root is not None
    compiler = _Compiler(schema, catalog, fragments, variables, decide)
    compiler.walk(operation.selection_set, root, (), None)
    return Plan(
        purpose=purpose,
        policy_version=policy_version,
        producers=compiler.producers,
        rules=compiler.rules,
    )


@dataclass(slots=True)
class CompiledCounts:
    """Queries answered on the compiled path, handed back to the general executor, and
    found not covered by the compiler (counted once per plan)."""

    runs: int = 0
    fallbacks: int = 0
    unsupported: int = 0


class PlanCache:
    """A bounded least-recently-used cache of plans, with hit and miss counters."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self.compiled = CompiledCounts()
        self._plans: LRUCache[tuple[Any, ...], Plan] = LRUCache(maxsize=size)

    def get(self, key: tuple[Any, ...]) -> Plan | None:
        plan = self._plans.get(key)
        if plan is None:
            self.misses += 1
            return None
        self.hits += 1
        return plan

    def put(self, key: tuple[Any, ...], plan: Plan) -> None:
        self._plans[key] = plan

    def clear(self) -> None:
        self._plans.clear()

    def __len__(self) -> int:
        return len(self._plans)
