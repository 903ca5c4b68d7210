"""Checking a document before it is trusted: it parses, validates against the whole schema,
and selects nothing outside the view of any partner it is registered for.

A trusted document that one of its partners can never run (a misspelt field, a field outside
the partner's view) would only fail later, on the partner's side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from graphql import GraphQLError, GraphQLSchema, parse, validate

from fieldgate.authz.classification import Catalog
from fieldgate.authz.policy import Policy
from fieldgate.authz.principal import Principal
from fieldgate.errors import BadUserInput
from fieldgate.schema.views import SchemaViews

_ARGUMENT = "document"


class DocumentChecker:
    """Validates documents against ``schema`` and each partner's view under the policy in
    force (``policy()``); a failure is ``BadUserInput`` naming the first problem."""

    def __init__(
        self, schema: GraphQLSchema, full_sdl: str, catalog: Catalog, policy: Callable[[], Policy]
    ) -> None:
        self._schema = schema
        self._views = SchemaViews(full_sdl, catalog, staff_see_all=False, maxsize=16)
        self._policy = policy

    def __call__(self, document: str, partners: Sequence[Principal]) -> None:
        """Return when every partner of ``partners`` can run ``document``."""
        try:
            parsed = parse(document)
        except GraphQLError as exc:
            message = f"the document does not parse: {exc.message}"
            raise BadUserInput(message, argument=_ARGUMENT) from None
        errors = validate(self._schema, parsed)
        if errors:
            raise BadUserInput(f"the document is invalid: {errors[0].message}", argument=_ARGUMENT)
        policy = self._policy()
        for partner in partners:
            errors = validate(self._views.view(partner, policy).schema, parsed)
            if errors:
                raise BadUserInput(
                    f"the document is outside the view of partner {partner.name}:"
                    f" {errors[0].message}",
                    argument=_ARGUMENT,
                )
