"""Plan keys: what besides the document and the principal changes the plan of a request.

Only the variables that decide ``@skip``/``@include`` do (they change which fields a plan
covers). They are read from the parsed document, never from its text: commas, comments and
the order of arguments spell the same directive many ways.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)

_CONDITIONS = ("skip", "include")


class _ConditionNames(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_directive(self, node: DirectiveNode, *_: object) -> None:
        if node.name.value in _CONDITIONS:
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    self.names.add(argument.value.name.value)


def condition_values(
    document: DocumentNode,
    text: str,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any] | None,
) -> tuple[tuple[str, bool], ...] | None:
    """The values of the variables that decide ``@skip``/``@include``, read from the parsed
    document (whatever the spelling: commas, comments, argument order), a variable's
    default included: they change which fields a plan covers, so they join its key; other
    variables (``first``, ids) do not. None when no such variable is used."""
    # a directive's name is always spelled out: a document without one has nothing to find
    if not any(name in text for name in _CONDITIONS):
        return None
    finder = _ConditionNames()
    visit(document, finder)
    if not finder.names:
        return None
    effective = with_defaults(operation, variables)
    return tuple(sorted((name, bool(effective.get(name))) for name in finder.names))


def with_defaults(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The request's variables, and the operation's literal Boolean defaults for the others
    (the values ``@skip``/``@include`` see at execution)."""
    effective: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        default = definition.default_value
        if isinstance(default, BooleanValueNode):
            effective[definition.variable.name.value] = default.value
    effective.update(variables or {})
    return effective
