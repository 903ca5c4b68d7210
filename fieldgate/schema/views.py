"""A schema per principal: the full SDL with every type and field it can never receive removed.

The view is built from the printed schema (so ``@classified`` stays visible) and turned
into a graphql-core ``GraphQLSchema`` for validation and introspection; execution still
runs on the full schema, through the disclosure engine. Views are cached per (kind,
roles, scopes, purposes, policy version) in a bounded LRU.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace

from cachetools import LRUCache
from graphql import (
    DefinitionNode,
    DirectiveDefinitionNode,
    DocumentNode,
    FieldDefinitionNode,
    GraphQLSchema,
    NamedTypeNode,
    Node,
    ObjectTypeDefinitionNode,
    SchemaDefinitionNode,
    TypeDefinitionNode,
    TypeNode,
    build_ast_schema,
    parse,
    print_ast,
)
from graphql.language import ListTypeNode, NonNullTypeNode

from fieldgate.authz.classification import Catalog
from fieldgate.authz.explain import synthetic_principal
from fieldgate.authz.policy import Policy
from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.errors import BadUserInput
from fieldgate.schema.visibility import (
    KNOWN_MUTATIONS,
    MUTATIONS_BY_KIND,
    NULL_FOR_OTHERS,
    OPERATOR_KINDS,
    OWN_ACCOUNT_KINDS,
    OWN_ACCOUNT_ROOTS,
    granted_fields,
)

ViewKey = tuple[str, frozenset[str], frozenset[str], frozenset[str], str]


@dataclass(frozen=True, slots=True)
class SchemaView:
    """One principal's schema: ``sdl`` to print, ``schema`` to validate and introspect."""

    sdl: str
    schema: GraphQLSchema
    types: frozenset[str]


def _named(type_node: TypeNode) -> str:
    while isinstance(type_node, (ListTypeNode, NonNullTypeNode)):
        type_node = type_node.type
    assert isinstance(type_node, NamedTypeNode)
    return type_node.name.value


class _ViewBuilder:
    """Filters the parsed full SDL for one set of granted coordinates and one kind."""

    def __init__(self, document: DocumentNode, catalog: Catalog) -> None:
        self.catalog = catalog
        self.objects = {
            d.name.value: d for d in document.definitions if isinstance(d, ObjectTypeDefinitionNode)
        }
        self.document = document
        # edge type -> connection type, to keep edges with their connection
        self.edges = {
            _named(self._field(c, "edges").type): c
            for c in catalog.connections
            if self._field(c, "edges") is not None
        }

    def _field(self, type_name: str, field_name: str) -> FieldDefinitionNode:
        fields = self.objects[type_name].fields or ()
        found = next(f for f in fields if f.name.value == field_name)
        return found

    def build(self, granted: frozenset[str], kind: PrincipalKind) -> DocumentNode:
        kept = self._row_fields(granted)
        kept_types = set(kept)
        roots = {
            "Query": self._query_fields(kept_types, kind),
            "Mutation": self._mutation_fields(kept_types, kind),
        }
        if kind not in OWN_ACCOUNT_KINDS:  # `me` answers null: its type keeps `id` at least
            kept = {**kept, "User": kept.get("User", frozenset()) | {"id"}}
            kept_types.add("User")
        definitions: list[DefinitionNode] = []
        for definition in self.document.definitions:
            filtered = self._filter(definition, kept, kept_types, roots)
            if filtered is not None:
                definitions.append(filtered)
        return _reachable(DocumentNode(definitions=tuple(definitions)))

    def _row_fields(self, granted: frozenset[str]) -> dict[str, frozenset[str]]:
        """Row type -> its kept fields: granted values, and granted relations whose rows show
        something (repeated until nothing changes)."""
        relations = {c for c in granted if self.catalog.classifications[c].relation}
        values = granted - relations
        kept: dict[str, set[str]] = {}
        for coordinate in values:
            type_name, field_name = coordinate.split(".", 1)
            kept.setdefault(type_name, set()).add(field_name)
        changed = True
        while changed:
            changed = False
            for coordinate in sorted(relations):
                type_name, field_name = coordinate.split(".", 1)
                if field_name in kept.get(type_name, ()):
                    continue
                target = self._row_type(_named(self._field(type_name, field_name).type))
                if target in kept:
                    kept.setdefault(type_name, set()).add(field_name)
                    changed = True
        return {t: frozenset(f) for t, f in kept.items()}

    def _row_type(self, type_name: str) -> str:
        return self.catalog.connections.get(type_name, type_name)

    def _query_fields(self, kept_types: set[str], kind: PrincipalKind) -> frozenset[str]:
        names: set[str] = set()
        for field in self.objects["Query"].fields or ():
            name = field.name.value
            target = self._row_type(_named(field.type))
            if name in NULL_FOR_OTHERS and kind not in OWN_ACCOUNT_KINDS:
                names.add(name)
                continue
            if name in OWN_ACCOUNT_ROOTS:
                shown = kind in OWN_ACCOUNT_KINDS
            elif target in self.catalog.row_types:
                shown = True
            else:
                shown = kind in OPERATOR_KINDS  # operating the gateway: tokens, policy
            if shown and (target not in self.catalog.row_types or target in kept_types):
                names.add(name)
        return frozenset(names)

    def _mutation_fields(self, kept_types: set[str], kind: PrincipalKind) -> frozenset[str]:
        names: set[str] = set()
        for field in self.objects["Mutation"].fields or ():
            name = field.name.value
            target = self._row_type(_named(field.type))
            if name in KNOWN_MUTATIONS:
                shown = name in MUTATIONS_BY_KIND.get(kind, frozenset())
            else:
                shown = kind in OPERATOR_KINDS  # the policy decides who among staff may
            if target in self.catalog.row_types and target not in kept_types:
                shown = False  # it answers with rows the caller cannot read
            if shown:
                names.add(name)
        return frozenset(names)

    def _filter(
        self,
        definition: DefinitionNode,
        kept: dict[str, frozenset[str]],
        kept_types: set[str],
        roots: dict[str, frozenset[str]],
    ) -> DefinitionNode | None:
        if isinstance(definition, SchemaDefinitionNode):
            operations = tuple(
                o
                for o in definition.operation_types
                if roots.get(_named(o.type)) or _named(o.type) == "Query"
            )
            return SchemaDefinitionNode(
                description=definition.description,
                directives=definition.directives,
                operation_types=operations,
            )
        if not isinstance(definition, ObjectTypeDefinitionNode):
            return definition
        name = definition.name.value
        if name in roots:
            allowed = roots[name]
        elif name in self.catalog.row_types:
            allowed = kept.get(name, frozenset())
        elif name in self.catalog.connections or name in self.edges:
            connection = self.edges.get(name, name)
            if self.catalog.connections[connection] not in kept_types:
                return None
            return definition
        else:
            return definition  # helper types (PageInfo, …): kept when something reaches them
        fields = tuple(f for f in definition.fields or () if f.name.value in allowed)
        if not fields and name != "Query":
            return None
        return ObjectTypeDefinitionNode(
            description=definition.description,
            name=definition.name,
            interfaces=definition.interfaces,
            directives=definition.directives,
            fields=fields,
        )


def _type_names(node: Node) -> set[str]:
    """Every type named anywhere inside ``node``."""
    found: set[str] = set()
    stack: list[object] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, NamedTypeNode):
            found.add(current.name.value)
        elif isinstance(current, Node):
            stack.extend(getattr(current, key) for key in current.keys if key != "loc")
        elif isinstance(current, (tuple, list)):
            stack.extend(current)
    return found


def _reachable(document: DocumentNode) -> DocumentNode:
    """Drop the type definitions nothing kept refers to (roots and directives start)."""
    types = {d.name.value: d for d in document.definitions if isinstance(d, TypeDefinitionNode)}
    start: set[str] = set()
    for definition in document.definitions:
        if isinstance(definition, (SchemaDefinitionNode, DirectiveDefinitionNode)):
            start |= _type_names(definition)
    seen: set[str] = set()
    pending = [name for name in start if name in types]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(n for n in _type_names(types[name]) if n in types and n not in seen)
    return DocumentNode(
        definitions=tuple(
            d
            for d in document.definitions
            if not isinstance(d, TypeDefinitionNode) or d.name.value in seen
        )
    )


def view_key(principal: Principal, policy: Policy) -> ViewKey:
    """What a view depends on: kind, roles, scopes, token purposes, policy version."""
    return (
        str(principal.kind),
        principal.roles,
        principal.scopes,
        principal.purposes,
        policy.version,
    )


class SchemaViews:
    """Builds and caches (bounded LRU) each principal's view of one full schema."""

    def __init__(
        self, full_sdl: str, catalog: Catalog, *, staff_see_all: bool, maxsize: int = 128
    ) -> None:
        self.staff_see_all = staff_see_all
        self._builder = _ViewBuilder(parse(full_sdl), catalog)
        self._catalog = catalog
        self._cache: LRUCache[ViewKey, SchemaView] = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()

    def for_principal(self, principal: Principal, policy: Policy) -> SchemaView | None:
        """The view ``principal`` is served; None for staff where they see everything."""
        if self.staff_see_all and principal.kind is PrincipalKind.STAFF:
            return None
        return self.view(principal, policy)

    def view(self, principal: Principal, policy: Policy) -> SchemaView:
        """``principal``'s view under ``policy`` (built once per key)."""
        key = view_key(principal, policy)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                return found
        built = self._build(principal, policy)
        with self._lock:
            self._cache[key] = built
        return built

    def _build(self, principal: Principal, policy: Policy) -> SchemaView:
        granted = granted_fields(self._catalog, policy, principal)
        document = self._builder.build(granted, principal.kind)
        return SchemaView(
            sdl=print_ast(document),
            schema=build_ast_schema(document),
            types=frozenset(_defined(document.definitions)),
        )


def _defined(definitions: Iterable[DefinitionNode]) -> Iterable[str]:
    for definition in definitions:
        if isinstance(definition, TypeDefinitionNode):
            yield definition.name.value


def printed_view(
    full_sdl: str,
    catalog: Catalog,
    policy: Policy,
    roles: Iterable[str],
    scopes: Iterable[str] = (),
    purposes: Iterable[str] = (),
) -> str:
    """The SDL a token holding ``roles``, narrowed to ``scopes`` and ``purposes``, is
    served (``fieldgate schema print --role``); unknown roles or purposes are
    ``BadUserInput``."""
    narrowed = frozenset(purposes)
    unknown = sorted(p for p in narrowed if p not in policy.vocabulary.parents)
    if unknown:
        raise BadUserInput(f"unknown purpose {', '.join(unknown)}")
    principal = replace(
        synthetic_principal(policy, roles), scopes=frozenset(scopes), purposes=narrowed
    )
    views = SchemaViews(full_sdl, catalog, staff_see_all=False, maxsize=1)
    return views.view(principal, policy).sdl
