"""Introspection in production: staff may read the schema; so may every authenticated
principal when the gateway serves each its own view of the schema.

Without views, anonymous callers, users and partners learn the schema from the
documentation they are given: introspection would show them fields their role can never
read. With views, each sees only what it could receive (``schema.views``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    SKIP,
    FieldNode,
    GraphQLError,
    ValidationRule,
    VisitorAction,
    get_named_type,
    is_introspection_type,
)
from strawberry.extensions import SchemaExtension

from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.errors import IntrospectionDisabled
from fieldgate.resolvers.context import RequestContext


def may_introspect(principal: Principal | None, *, views_served: bool = False) -> bool:
    """Whether ``principal`` may query ``__schema`` and ``__type`` in production."""
    if principal is None:
        return False
    if views_served:
        return principal.is_authenticated
    return principal.kind is PrincipalKind.STAFF


class IntrospectionRefused(ValidationRule):
    """Refuses ``__schema`` and ``__type`` (by their type, so an alias does not hide them);
    ``__typename`` stays allowed: clients need it and it reveals nothing."""

    def enter_field(self, node: FieldNode, *_: Any) -> VisitorAction:
        field_type = self.context.get_type()
        if field_type is None or not is_introspection_type(get_named_type(field_type)):
            return None
        refused = IntrospectionDisabled("introspection is not available to this caller")
        self.report_error(GraphQLError(refused.message, nodes=[node], original_error=refused))
        return SKIP  # one error per introspection field, not one per field inside it


class IntrospectionGate(SchemaExtension):
    """Adds ``IntrospectionRefused`` to the validation of every operation not sent by staff."""

    def on_operation(self) -> Iterator[None]:
        execution = self.execution_context
        context: RequestContext = execution.context
        views_served = context.services.schema_views is not None
        if not may_introspect(context.principal, views_served=views_served):
            execution.validation_rules = (*execution.validation_rules, IntrospectionRefused)
        yield
