"""Query limits: an operation too big to serve is refused before any resolver runs.

The token limit stops graphql-core's lexer early (a huge document costs nothing to
refuse); depth, aliases, directives, root fields and cost are a graphql-core validation
rule, so they run with validation, are cached with it, and never reach execution.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    SKIP,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    ValidationRule,
    VisitorAction,
)
from strawberry.extensions import SchemaExtension

from fieldgate.errors import (
    QueryRefused,
    QueryTooCostly,
    QueryTooDeep,
    QueryTooManyAliases,
    QueryTooManyDirectives,
    QueryTooManyRootFields,
    QueryTooManyTokens,
)
from fieldgate.resolvers.pagination import DEFAULT_PAGE
from fieldgate.schema.shape import CEILING, Pages, measure
from fieldgate.settings import Settings

# graphql-core's own wording for the two limits it enforces while parsing.
_TOO_MANY_TOKENS = "Syntax Error: Document contains more than"
_NESTED_TOO_DEEPLY = "Syntax Error: Document is nested too deeply"
# Nesting inside ``__schema`` and ``__type``: graphql-core's full introspection query (the
# one GraphiQL sends) nests 14 deep; ``ofType`` chains past that describe no real type.
INTROSPECTION_DEPTH = 15


@dataclass(frozen=True)
class QueryLimits:
    """The limits of one gateway (``FIELDGATE_MAX_*``)."""

    max_tokens: int
    max_depth: int
    max_aliases: int
    max_directives: int
    max_root_fields: int
    max_cost: int
    pages: Pages
    max_introspection_depth: int = INTROSPECTION_DEPTH

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        """The limits configured in ``settings``; lists are costed like the resolvers page."""
        return cls(
            max_tokens=settings.max_tokens,
            max_depth=settings.max_depth,
            max_aliases=settings.max_aliases,
            max_directives=settings.max_directives,
            max_root_fields=settings.max_root_fields,
            max_cost=settings.max_cost,
            pages=Pages(default=DEFAULT_PAGE, cap=settings.max_page_size),
        )


def refusals(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    limits: QueryLimits,
) -> list[QueryRefused]:
    """Every limit ``operation`` exceeds, each as the error that carries its code."""
    try:
        shape = measure(schema, document, operation, limits.pages)
    except RecursionError:
        return [QueryTooDeep("the operation is nested too deeply", limit=limits.max_depth)]
    checks: list[tuple[type[QueryRefused], str, int, int]] = [
        (QueryTooDeep, "depth", shape.depth, limits.max_depth),
        (QueryTooDeep, "introspection depth", shape.introspection_depth,
         limits.max_introspection_depth),
        (QueryTooManyAliases, "aliases", shape.aliases, limits.max_aliases),
        (QueryTooManyDirectives, "directives at one location", shape.directives,
         limits.max_directives),
        (QueryTooManyRootFields, "root fields", shape.fields, limits.max_root_fields),
        (QueryTooCostly, "estimated cost", shape.cost, limits.max_cost),
    ]  # fmt: skip
    return [
        refusal(f"{what} {_count(value)} exceeds the limit of {limit}", limit=limit)
        for refusal, what, value, limit in checks
        if value > limit
    ]


def limits_rule(limits: QueryLimits) -> type[ValidationRule]:
    """A graphql-core validation rule refusing each operation over ``limits``."""

    class QueryLimitsRule(ValidationRule):
        def enter_document(self, node: DocumentNode, *_: Any) -> VisitorAction:
            for definition in node.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    for refused in refusals(self.context.schema, node, definition, limits):
                        error = GraphQLError(
                            refused.message, nodes=[definition], original_error=refused
                        )
                        self.report_error(error)
            return SKIP  # the whole document is measured at once

    return QueryLimitsRule


class QueryLimiter(SchemaExtension):
    """Puts the limits on every operation: the token limit on the parser, the rest as a
    validation rule; names the parser's own refusals with their codes."""

    def __init__(self, limits: QueryLimits, rule: type[ValidationRule]) -> None:
        self.limits = limits
        self.rule = rule

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        execution.parse_options["max_tokens"] = self.limits.max_tokens
        execution.validation_rules = (*execution.validation_rules, self.rule)
        # Leaves before ErrorCodes (listed earlier), which keeps the code given here; a
        # parse error raises through the operation (Strawberry's ParserCache parses).
        try:
            yield
        except GraphQLError as error:
            raise self._named(error) from None
        result = execution.result
        if result is not None and result.errors:
            result.errors = [self._named(error) for error in result.errors]

    def _named(self, error: GraphQLError) -> GraphQLError:
        if error.original_error is not None:
            return error
        refused: QueryRefused
        if error.message.startswith(_TOO_MANY_TOKENS):
            limit = self.limits.max_tokens
            refused = QueryTooManyTokens(f"the document has more than {limit} tokens", limit=limit)
        elif error.message.startswith(_NESTED_TOO_DEEPLY):
            limit = self.limits.max_depth
            refused = QueryTooDeep("the document is nested too deeply", limit=limit)
        else:
            return error
        return GraphQLError(refused.message, original_error=refused)


class OneOperation(SchemaExtension):
    """A document of several operations must come with ``operationName``: Strawberry would
    otherwise run the first one, which is not what the sender may have meant."""

    def on_validate(self) -> Iterator[None]:
        # after the validation of the document (``VisibleValidation``, listed before it)
        execution = self.execution_context
        document = execution.graphql_document
        if (
            document is not None
            and execution._provided_operation_name is None
            and not execution.pre_execution_errors  # refused already
        ):
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                error = GraphQLError(
                    "the document has more than one operation: name one with operationName",
                    nodes=operations,
                    extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
                )
                execution.pre_execution_errors = [*(execution.pre_execution_errors or []), error]
        yield


def query_limiter(limits: QueryLimits) -> Callable[[], QueryLimiter]:
    """A factory of ``QueryLimiter`` (one per operation) sharing one rule class, so that
    validation results stay cached."""
    rule = limits_rule(limits)
    return lambda: QueryLimiter(limits, rule)


def _count(value: int) -> str:
    return f"over {CEILING}" if value >= CEILING else str(value)
