"""Read the classification of every field from the built schema, refusing misdeclarations."""

from __future__ import annotations

from graphql import GraphQLObjectType, GraphQLSchema, get_named_type, is_non_null_type
from strawberry.schema.schema_converter import GraphQLCoreConverter

from fieldgate.authz.classification import Catalog, Classification, Level
from fieldgate.authz.masking import MaskStrategy
from fieldgate.authz.purposes import PurposeVocabulary
from fieldgate.errors import SchemaMisdeclared
from fieldgate.schema.argument_reads import build_argument_reads
from fieldgate.schema.directives import Classified

BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF


def _classification_of(field_definition: object) -> Classified | None:
    for directive in getattr(field_definition, "directives", ()):
        if isinstance(directive, Classified):
            return directive
    return None


def build_catalog(schema: GraphQLSchema, vocabulary: PurposeVocabulary | None = None) -> Catalog:
    """Every classified coordinate, the row types and the connections of ``schema``.

    Raises ``SchemaMisdeclared`` naming the field when a row type has an unclassified field,
    a personal field is non-null (a denial would null its parent), a relation has a mask,
    a PERSONAL or SENSITIVE field allows no purpose, a purpose is not in the vocabulary, or
    an argument does not declare the field it reads (``schema.argument_reads``).
    """
    classifications: dict[str, Classification] = {}
    row_types: set[str] = set()
    connections: dict[str, str] = {}
    for name, graphql_type in schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or name.startswith("__"):
            continue
        fields = graphql_type.fields
        if "edges" in fields and "pageInfo" in fields:
            edge = get_named_type(fields["edges"].type)
            assert isinstance(edge, GraphQLObjectType)
            connections[name] = get_named_type(edge.fields["node"].type).name
            continue
        declared = {
            field_name: _classification_of(field.extensions.get(BACKREF))
            for field_name, field in fields.items()
        }
        if not any(declared.values()):
            continue
        row_types.add(name)
        for field_name, directive in declared.items():
            coordinate = f"{name}.{field_name}"
            if directive is None:
                raise SchemaMisdeclared(f"{coordinate} has no classification")
            strawberry_field = fields[field_name].extensions[BACKREF]
            try:
                level = Level(directive.level)
                mask = MaskStrategy(directive.mask) if directive.mask is not None else None
            except ValueError:
                raise SchemaMisdeclared(f"{coordinate} has an unknown level or mask") from None
            classification = Classification(
                coordinate=coordinate,
                attribute=strawberry_field.python_name,
                level=level,
                mask=mask,
                purposes=frozenset(str(p) for p in directive.purposes),
                prohibits=frozenset(str(p) for p in directive.prohibits),
                relation=directive.relation,
                nullable=not is_non_null_type(fields[field_name].type),
            )
            _check(classification, vocabulary)
            classifications[coordinate] = classification
    reads = build_argument_reads(schema)
    return Catalog(classifications, frozenset(row_types), connections, reads)


def _check(classification: Classification, vocabulary: PurposeVocabulary | None) -> None:
    coordinate = classification.coordinate
    if classification.is_personal and not classification.nullable:
        raise SchemaMisdeclared(f"{coordinate} is {classification.level} but non-null")
    if classification.is_personal and not classification.purposes:
        raise SchemaMisdeclared(f"{coordinate} is {classification.level} but allows no purpose")
    if classification.relation and classification.mask is not None:
        raise SchemaMisdeclared(f"{coordinate} is a relation and cannot have a mask")
    if vocabulary is not None:
        for purpose in classification.purposes | classification.prohibits:
            if purpose not in vocabulary.parents:
                raise SchemaMisdeclared(f"{coordinate} names unknown purpose {purpose}")
