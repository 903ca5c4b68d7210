"""What each argument reads: declared on the field, checked when the schema is built.

An argument that filters, searches, orders or looks rows up by a field's value reads that
field, and says so: ``resolved(queries.orders_, reads={"status": "Order.status", **PAGE})``.
Every argument of a field that can be queried is declared (``None``: it reads no field, as
``first``/``after``); an undeclared argument, or one naming an unknown field, refuses the
schema, naming it. Mutation arguments are the values a mutation writes, checked by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema
from strawberry.schema.schema_converter import GraphQLCoreConverter

from fieldgate.errors import SchemaMisdeclared

BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
READS = "fieldgate.reads"

PAGE: dict[str, str | None] = {"first": None, "after": None}
"""Pagination arguments: they choose a page, they read no field."""


def reads_metadata(reads: Mapping[str, str | None]) -> dict[str, Any]:
    """Field metadata declaring what each argument (by its GraphQL name) reads."""
    return {READS: dict(reads)}


def build_argument_reads(schema: GraphQLSchema) -> dict[str, dict[str, str | None]]:
    """Every queryable field with arguments mapped to what each argument reads.

    Raises ``SchemaMisdeclared`` naming the argument when one is not declared, a
    declaration names an argument the field does not have, or it names an unknown field.
    """
    mutation = schema.mutation_type
    found: dict[str, dict[str, str | None]] = {}
    for type_name, graphql_type in schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or type_name.startswith("__"):
            continue
        if graphql_type is mutation:
            continue
        for field_name, field in graphql_type.fields.items():
            if not field.args:
                continue
            coordinate = f"{type_name}.{field_name}"
            strawberry_field = field.extensions.get(BACKREF)
            declared: dict[str, str | None] = dict(
                getattr(strawberry_field, "metadata", None) or {}
            ).get(READS, {})
            for argument in field.args:
                if argument not in declared:
                    raise SchemaMisdeclared(
                        f"{coordinate}({argument}:) does not declare the field it reads"
                    )
            for argument, read in declared.items():
                if argument not in field.args:
                    raise SchemaMisdeclared(f"{coordinate} declares unknown argument {argument}")
                if read is not None and not _is_field(schema, read):
                    raise SchemaMisdeclared(f"{coordinate}({argument}:) reads unknown field {read}")
            found[coordinate] = declared
    return found


def _is_field(schema: GraphQLSchema, coordinate: str) -> bool:
    type_name, _, field_name = coordinate.partition(".")
    graphql_type = schema.get_type(type_name)
    return isinstance(graphql_type, GraphQLObjectType) and field_name in graphql_type.fields
