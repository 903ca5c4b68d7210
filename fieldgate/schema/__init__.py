"""The assembled GraphQL schema."""

from __future__ import annotations

from typing import Any

import strawberry
import structlog
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from fieldgate.errors import FieldgateError
from fieldgate.infra.faults import database_fault, refused_input
from fieldgate.schema.compiled import FieldgateExecutor
from fieldgate.schema.directives import Classified, purpose
from fieldgate.schema.extensions import DisclosureExtension, ErrorCodes
from fieldgate.schema.inputs import InputChecks
from fieldgate.schema.introspection import IntrospectionGate
from fieldgate.schema.limits import OneOperation, QueryLimits, query_limiter
from fieldgate.schema.rate_cost import CostCharge
from fieldgate.schema.root import Mutation, Query
from fieldgate.schema.view_extensions import ViewIntrospection, visible_validation


class FieldgateSchema(strawberry.Schema):
    """Strawberry's schema, logging errors as coded events instead of tracebacks."""

    hide_suggestions = False

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        """Passes ``hide_suggestions`` to graphql-core's execute (errors in variables)."""
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        kwargs["hide_suggestions"] = self.hide_suggestions
        return kwargs

    def get_extensions(self, sync: bool = False) -> list[SchemaExtension]:
        """Our extensions only. Strawberry adds a field-directive pass whenever the schema
        declares directives; ``@purpose`` is an operation directive read before execution,
        and that pass would wrap every field's resolution (measured: 2.5x slower)."""
        return [ext if isinstance(ext, SchemaExtension) else ext() for ext in self.extensions]

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            original = error.original_error
            if original is not None and not isinstance(original, FieldgateError):
                original = refused_input(original) or original
            if isinstance(original, FieldgateError):
                log.info("operation_error", code=original.code, path=error.path)
            elif original is not None and (fault := database_fault(original)) is not None:
                log.warning("database_unavailable", path=error.path, reason=fault.value)
            elif original is not None:
                log.error("resolver_failed", path=error.path, error_class=type(original).__name__)


log = structlog.get_logger("fieldgate.graphql")


def build_schema(
    limits: QueryLimits | None = None, *, production: bool = False
) -> strawberry.Schema:
    """Build the schema; misdeclared fields are refused by ``build_catalog`` at startup.

    ``limits`` (none: unlimited, for tools that never serve) refuse oversized operations
    before execution; ``production`` hides "Did you mean …?" suggestions and keeps
    introspection for staff.
    """
    guards: list[Any] = []
    if limits is not None:
        guards.append(query_limiter(limits))
    if production:
        guards.append(IntrospectionGate)
    schema = FieldgateSchema(
        query=Query,
        mutation=Mutation,
        directives=[purpose],
        schema_directives=[Classified],
        extensions=[
            ErrorCodes,  # first, so that it sees every other extension's errors last
            *guards,
            lambda: ParserCache(maxsize=256),  # module-level: shared by every schema
            # against the principal's view of the schema when the app serves views
            visible_validation(maxsize=256, hide_suggestions=production),
            OneOperation,  # after validation: several operations need an operationName
            InputChecks,  # a value the databases refuse: nothing runs, nothing is charged
            CostCharge,  # before any plan is compiled: over budget, nothing runs
            DisclosureExtension,
            ViewIntrospection,  # last: answers __schema and __type from the view
        ],
        config=StrawberryConfig(default_resolver=dict.get),  # rows are shaped dicts
        execution_context_class=FieldgateExecutor,  # cached queries: the compiled path
    )
    schema.hide_suggestions = production
    return schema
