"""The shape of an operation: depth, aliases, directives, root fields and estimated cost.

Measured on the document alone, before execution, so that the limits can refuse an
operation before any resolver runs. Fragments are measured once per context and reused,
so a document spreading fragments into each other cannot make the measure itself slow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SchemaMetaFieldDef,
    SelectionSetNode,
    TypeMetaFieldDef,
    VariableNode,
    get_named_type,
)

PAGE_ARGUMENT = "first"
CEILING = 10**18  # counts saturate: spreading fragments into each other must not grow them forever


@dataclass(frozen=True)
class Shape:
    """What a selection set asks for. ``fields`` counts its own fields (fragments spread)."""

    fields: int = 0
    depth: int = 0
    aliases: int = 0
    directives: int = 0
    cost: int = 0
    introspection_depth: int = 0  # nesting inside ``__schema``/``__type``, which count too

    def __add__(self, other: Shape) -> Shape:
        return Shape(
            min(CEILING, self.fields + other.fields),
            max(self.depth, other.depth),
            min(CEILING, self.aliases + other.aliases),
            max(self.directives, other.directives),
            min(CEILING, self.cost + other.cost),
            max(self.introspection_depth, other.introspection_depth),
        )


@dataclass(frozen=True)
class Pages:
    """How many rows a list is assumed to hold: ``first`` within 1..cap, else the default."""

    default: int
    cap: int

    def size(self, first: IntValueNode | VariableNode | None) -> int:
        """The rows of a page asked with this ``first`` argument."""
        if first is None:
            return min(self.default, self.cap)
        if isinstance(first, VariableNode):
            # Validation sees no variable values (and is cached per document): assume the cap.
            return self.cap
        return max(1, min(int(first.value), self.cap))


_Key: TypeAlias = tuple[str, int | None, bool]


class _Measure:
    """One measurement of one document; remembers each fragment's shape once computed."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, pages: Pages) -> None:
        self.schema = schema
        self.pages = pages
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.known: dict[_Key, Shape] = {}
        self.open: set[_Key] = set()

    def selection_set(
        self,
        selections: SelectionSetNode,
        parent: GraphQLNamedType | None,
        page: int | None,
        introspection: bool,
    ) -> Shape:
        """``page`` is the page size of the connection owning this selection set, if any."""
        total = Shape()
        for selection in selections.selections:
            here = len(selection.directives or ())
            if isinstance(selection, FieldNode):
                shape = self.field(selection, parent, page, introspection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                shape = self.selection_set(selection.selection_set, target, page, introspection)
            elif isinstance(selection, FragmentSpreadNode):
                shape = self.fragment(selection.name.value, page, introspection)
            else:  # pragma: no cover - the three kinds of selection are exhaustive
                continue
            total = total + shape + Shape(directives=here)
        return total

    def field(
        self,
        node: FieldNode,
        parent: GraphQLNamedType | None,
        page: int | None,
        introspection: bool,
    ) -> Shape:
        aliases = 1 if node.alias else 0
        directives = len(node.directives or ())
        if node.selection_set is None:
            return Shape(fields=1, aliases=aliases, directives=directives, cost=1)
        name = node.name.value
        definition = _field_definition(self.schema, parent, name)
        # Introspection fields cost one each and their nesting is counted on its own
        # (GraphiQL's introspection query nests 14 deep, more than any real data path).
        inside = introspection or name.startswith("__")
        rows = 1
        own_page: int | None = None
        if definition is not None and not inside:
            if isinstance(_nullable(definition.type), GraphQLList):
                rows = page if page is not None else self.pages.size(None)
            if PAGE_ARGUMENT in definition.args:
                first = next(
                    (a.value for a in node.arguments or () if a.name.value == PAGE_ARGUMENT), None
                )
                own_page = self.pages.size(
                    first if isinstance(first, (IntValueNode, VariableNode)) else None
                )
        target = get_named_type(definition.type) if definition is not None else None
        children = self.selection_set(node.selection_set, target, own_page, inside)
        return Shape(
            fields=1,
            depth=children.depth + (0 if inside else 1),
            introspection_depth=children.introspection_depth + (1 if inside else 0),
            aliases=min(CEILING, aliases + children.aliases),
            directives=max(directives, children.directives),
            cost=min(CEILING, 1 + rows * children.cost),
        )

    def fragment(self, name: str, page: int | None, introspection: bool) -> Shape:
        key = (name, page, introspection)
        known = self.known.get(key)
        if known is not None:
            return known
        definition = self.fragments.get(name)
        if definition is None or key in self.open:
            return Shape()  # unknown or cyclic: validation reports it
        self.open.add(key)
        target = self.schema.get_type(definition.type_condition.name.value)
        shape = self.selection_set(definition.selection_set, target, page, introspection)
        shape = shape + Shape(directives=len(definition.directives or ()))
        self.open.discard(key)
        self.known[key] = shape
        return shape


def measure(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    pages: Pages,
) -> Shape:
    """The shape of ``operation``: ``fields`` is its root fields, ``cost`` one per field
    times the rows each list is assumed to hold (``first``, else the default page).

    May raise ``RecursionError`` on absurdly nested documents; the caller refuses those.
    """
    root = schema.get_root_type(operation.operation)
    shape = _Measure(schema, document, pages).selection_set(
        operation.selection_set, root, None, False
    )
    variables = operation.variable_definitions or ()
    locations = [operation.directives, *(v.directives for v in variables)]
    return shape + Shape(directives=max(len(d or ()) for d in locations))


def _field_definition(
    schema: GraphQLSchema, parent: GraphQLNamedType | None, name: str
) -> GraphQLField | None:
    if name == "__schema":
        return SchemaMetaFieldDef
    if name == "__type":
        return TypeMetaFieldDef
    if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


def _nullable(graphql_type: object) -> object:
    return graphql_type.of_type if isinstance(graphql_type, GraphQLNonNull) else graphql_type
