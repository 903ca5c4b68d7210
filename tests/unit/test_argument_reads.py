"""Misdeclared arguments refuse the schema, naming the argument."""

from __future__ import annotations

import pytest
import strawberry

from fieldgate.errors import SchemaMisdeclared
from fieldgate.schema import build_schema
from fieldgate.schema.argument_reads import PAGE, build_argument_reads
from fieldgate.schema.catalog import build_catalog
from fieldgate.schema.directives import resolved


@strawberry.type
class Thing:
    name: str


def things(first: int | None = None, name: str | None = None) -> list[Thing]:
    return []


def schema_with(**reads: str | None) -> strawberry.Schema:
    @strawberry.type
    class Query:
        items: list[Thing] = resolved(things, reads=reads)

    return strawberry.Schema(query=Query)


def test_every_argument_declared_builds() -> None:
    schema = schema_with(first=None, name="Thing.name")
    assert build_argument_reads(schema._schema) == {
        "Query.items": {"first": None, "name": "Thing.name"}
    }


@pytest.mark.parametrize(
    ("reads", "message"),
    [
        ({"first": None}, r"Query.items\(name:\) does not declare the field it reads"),
        ({**PAGE, "name": "Thing.name"}, "Query.items declares unknown argument after"),
        ({"first": None, "name": "Thing.title"}, r"Query.items\(name:\) reads unknown field"),
        ({"first": None, "name": "Nothing.name"}, r"reads unknown field Nothing.name"),
    ],
)
def test_misdeclared_arguments_refuse_the_schema(
    reads: dict[str, str | None], message: str
) -> None:
    with pytest.raises(SchemaMisdeclared, match=message):
        build_argument_reads(schema_with(**reads)._schema)


def test_an_undeclared_field_refuses_the_catalog() -> None:
    @strawberry.type
    class Query:
        items: list[Thing] = resolved(things)

    with pytest.raises(SchemaMisdeclared, match="does not declare"):
        build_catalog(strawberry.Schema(query=Query)._schema)


def test_the_packaged_schema_declares_what_its_filters_read() -> None:
    reads = build_catalog(build_schema()._schema).argument_reads
    assert reads["Query.orders"]["status"] == "Order.status"
    assert reads["Query.courses"] == {
        "search": "Course.title",
        "category": "Course.category",
        "first": None,
        "after": None,
    }
    assert reads["Query.userByIdNumber"] == {"idNumber": "User.idNumber"}
    assert reads["Query.user"] == {"id": "User.id"}
    assert reads["Query.auditEvents"]["subjectId"] == "AuditEventView.subjects"
    assert not any(name.startswith("Mutation.") for name in reads)
