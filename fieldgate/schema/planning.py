"""Planning: what an operation selects, found by walking its document with the schema.

The walk follows the operation's selections (fragments, ``@skip``/``@include`` with the
request's variables, connections' ``edges { node }``) and hands the engine plain data
(``fieldgate.authz.plans.Selected``): every place the operation produces rows and every
classified field it selects on them. The engine decides those coordinates; nothing of
GraphQL reaches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
from fieldgate.authz.plans import (
    INDEX,
    Decide,
    PathKey,
    Plan,
    RowsAt,
    Selected,
    Selection,
    compile_plan,
)


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        catalog: Catalog,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.catalog = catalog
        self.fragments = fragments
        self.variables = variables
        self.rows: dict[PathKey, RowsAt] = {}
        self.fields: list[tuple[PathKey, Selection]] = []

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
        producer: RowsAt | None,
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
        producer: RowsAt | None,
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
            self.fields.append(
                (producer.key, Selection(response_key, coordinate, classification.attribute))
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
            child = self.rows.setdefault(here, RowsAt(here, named.name, prefix))
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
        producer: RowsAt | None = self.rows.get(path)
        for edges_path, edges_node, edge_type in self.fields_named(
            selection_set, connection, path, "edges", visited
        ):
            for node_path, node_node, _ in self.fields_named(
                edges_node, edge_type, edges_path, "node", visited
            ):
                if producer is None:
                    prefix = (edges_path[-1], INDEX, node_path[-1])
                    producer = RowsAt(path, node_type.name, prefix)
                    self.rows[path] = producer
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


def selected_fields(
    schema: GraphQLSchema,
    catalog: Catalog,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
) -> Selected:
    """Walk the operation once: where it produces rows and the classified fields it selects."""
    root = schema.get_root_type(operation.operation)
    assert root is not None
    walk = _Walk(schema, catalog, fragments, variables)
    walk.walk(operation.selection_set, root, (), None)
    return Selected(rows=tuple(walk.rows.values()), fields=tuple(walk.fields))


def plan_operation(
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
    """The plan of one operation: its selected coordinates, each decided once."""
    selected = selected_fields(schema, catalog, operation, fragments, variables)
    return compile_plan(selected, purpose=purpose, policy_version=policy_version, decide=decide)
