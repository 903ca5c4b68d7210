"""Each principal validates and introspects against its own view of the schema.

Validation runs against the view, so a field the caller can never receive fails exactly
like a field that does not exist (``Cannot query field "x" on type "Order".``, no
suggestions). Introspection is answered from the view. Every other operation executes on
the full schema, through the disclosure engine, which stays the guarantee.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from inspect import isawaitable

from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    execute,
    get_operation_ast,
    validate,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from fieldgate.errors import QueryRefused, Unauthenticated
from fieldgate.resolvers.context import PrincipalView, RequestContext
from fieldgate.schema.visibility import USER_ROOTS

Rules = tuple[type[ASTValidationRule], ...]
Validate = Callable[[GraphQLSchema, DocumentNode, Rules, bool], list[GraphQLError]]
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


def principal_view(context: RequestContext) -> PrincipalView | None:
    """The view of the operation's principal; None when it sees the full schema."""
    services = context.services
    views = services.schema_views
    if views is None:
        return None
    return views.for_principal(context.principal, services.policy)


class VisibleValidation(SchemaExtension):
    """Validates against the principal's view (or the full schema) through a shared cache."""

    def __init__(self, validate_document: Validate, hide_suggestions: bool) -> None:
        self._validate = validate_document
        self._hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        assert execution.graphql_document is not None  # parsing succeeded to get here
        view = principal_view(execution.context)
        schema = execution.schema._schema if view is None else view.schema
        # A view never suggests: its suggestions are all it could reveal.
        hide = self._hide_suggestions or view is not None
        errors = self._validate(
            schema, execution.graphql_document, execution.validation_rules, hide
        )
        if errors and view is not None and not execution.context.principal.is_authenticated:
            errors = _sign_in_first(execution.graphql_document) or errors
        execution.pre_execution_errors = errors
        yield


def _sign_in_first(document: DocumentNode) -> list[GraphQLError] | None:
    """One ``UNAUTHENTICATED`` error when an anonymous document uses a user's operation."""
    roots: set[str] = set()
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            roots |= root_field_names(document, definition)
    if not roots & USER_ROOTS:
        return None
    refused = Unauthenticated("login_required", "this operation needs a signed-in user")
    return [GraphQLError(refused.message, extensions={"code": refused.code, **refused.extensions})]


def visible_validation(maxsize: int, *, hide_suggestions: bool) -> Callable[[], VisibleValidation]:
    """A factory of ``VisibleValidation`` sharing one LRU of ``maxsize`` results, keyed by
    schema (full or view), document, rules and whether suggestions are hidden."""

    def validate_document(
        schema: GraphQLSchema, document: DocumentNode, rules: Rules, hide: bool
    ) -> list[GraphQLError]:
        # Strawberry's own rules (Maybe, @oneOf) run as they do in its ValidationCache.
        every_rule = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
        return validate(schema, document, every_rule, hide_suggestions=hide)

    cached = lru_cache(maxsize=maxsize)(validate_document)
    return lambda: VisibleValidation(cached, hide_suggestions)


def root_field_names(document: DocumentNode, operation: OperationDefinitionNode) -> set[str]:
    """The names of the operation's root fields, through fragments (aliases ignored)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    names: set[str] = set()
    seen: set[str] = set()
    pending: list[SelectionSetNode] = [operation.selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    pending.append(fragments[name].selection_set)
    return names


class ViewIntrospection(SchemaExtension):
    """Answers ``__schema`` and ``__type`` from the principal's view; an operation mixing
    them with data fields is refused (its introspection would read the full schema)."""

    def on_execute(self) -> Iterator[None]:
        execution = self.execution_context
        document = execution.graphql_document
        view = principal_view(execution.context)
        if view is not None and document is not None and execution.result is None:
            operation = get_operation_ast(document, execution.operation_name)
            roots = root_field_names(document, operation) if operation is not None else set()
            if roots & INTROSPECTION_ROOTS:
                execution.result = self._introspect(view, document, roots)
        yield

    def _introspect(
        self, view: PrincipalView, document: DocumentNode, roots: set[str]
    ) -> GraphQLExecutionResult:
        if any(not name.startswith("__") for name in roots):
            refused = QueryRefused("send introspection in an operation of its own")
            return GraphQLExecutionResult(
                None, [GraphQLError(refused.message, original_error=refused)]
            )
        execution = self.execution_context
        result = execute(
            view.schema,
            document,
            variable_values=execution.variables,
            operation_name=execution.operation_name,
        )
        assert not isawaitable(result)  # introspection resolvers are synchronous
        return result
