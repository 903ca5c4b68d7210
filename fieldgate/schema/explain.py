"""``policy explain --query``: the fields a GraphQL document selects, explained.

The document is parsed and validated against the schema, and walked the way the gateway
plans it (``fieldgate.schema.planning``); the engine then explains the coordinates found
(``fieldgate.authz.explain``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from graphql import (
    DirectiveNode,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    Visitor,
    parse,
    validate,
    visit,
)
from graphql.language.visitor import REMOVE

from fieldgate.authz.classification import Catalog
from fieldgate.authz.explain import ExplainRow, explain
from fieldgate.authz.policy import Policy
from fieldgate.errors import BadUserInput
from fieldgate.schema.planning import selected_fields


def explain_operation(
    schema: GraphQLSchema,
    catalog: Catalog,
    policy: Policy,
    roles: Iterable[str],
    purpose: str | None,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
) -> list[ExplainRow]:
    """The rows of the coordinates ``operation`` selects, as the gateway would plan it."""
    selected = selected_fields(schema, catalog, operation, fragments, {})
    coordinates = {selection.coordinate for _, selection in selected.fields}
    return explain(catalog, policy, roles, purpose, coordinates=coordinates)


def parse_operation(
    schema: GraphQLSchema, source: str
) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode]]:
    """The first operation of a GraphQL document and its fragments, validated.

    ``@skip`` and ``@include`` are dropped: every field the operation may select is
    explained, whatever its variables. Invalid documents are ``BadUserInput``.
    """
    try:
        document = parse(source)
    except GraphQLError as error:
        raise BadUserInput(f"the query does not parse: {error.message}") from None
    errors = validate(schema, document)
    if errors:
        raise BadUserInput("the query is invalid: " + "; ".join(e.message for e in errors))
    document = visit(document, _Unconditional())
    assert isinstance(document, DocumentNode)
    operation = next(
        (d for d in document.definitions if isinstance(d, OperationDefinitionNode)), None
    )
    if operation is None:
        raise BadUserInput("the query holds no operation")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return operation, fragments


class _Unconditional(Visitor):
    """Removes ``@skip`` and ``@include`` so that conditional selections count as selected."""

    def enter_directive(self, node: DirectiveNode, *_: object) -> object:
        return REMOVE if node.name.value in ("skip", "include") else None
