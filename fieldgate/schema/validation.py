"""Validation cached per document (LRU), able to hide "Did you mean …?" suggestions.

Strawberry's ``ValidationCache`` calls graphql-core's ``validate`` without its
``hide_suggestions`` option; in production the suggestions would name fields to callers
who never saw the schema, so this extension passes it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache

from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, validate
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

Rules = tuple[type[ASTValidationRule], ...]
Validate = Callable[[GraphQLSchema, DocumentNode, Rules], list[GraphQLError]]


class CachedValidation(SchemaExtension):
    """Validates through a shared LRU cache keyed by schema, document and rules."""

    def __init__(self, validate_document: Validate) -> None:
        self._validate = validate_document

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        assert execution.graphql_document is not None  # parsing succeeded to get here
        execution.pre_execution_errors = self._validate(
            execution.schema._schema, execution.graphql_document, execution.validation_rules
        )
        yield


def cached_validation(maxsize: int, *, hide_suggestions: bool) -> Callable[[], CachedValidation]:
    """A factory of ``CachedValidation`` (one per operation) sharing one cache of ``maxsize``
    results; the rules join the key, so callers validated differently never share one."""

    def validate_document(
        schema: GraphQLSchema, document: DocumentNode, rules: Rules
    ) -> list[GraphQLError]:
        # Strawberry's own rules (Maybe, @oneOf) run as they do in its ValidationCache.
        every_rule = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
        return validate(schema, document, every_rule, hide_suggestions=hide_suggestions)

    cached = lru_cache(maxsize=maxsize)(validate_document)
    return lambda: CachedValidation(cached)
