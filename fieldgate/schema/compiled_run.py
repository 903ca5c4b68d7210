"""The pieces of the compiled path that run per request: the completers that turn a value
into its response value, the steps that call resolvers, and one request's state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import FieldNode, GraphQLField, GraphQLObjectType
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class Bailout(Exception):
    """The compiled path cannot answer this request; the general executor will."""


class Unsupported(Exception):
    """The operation has a structure the compiler does not cover."""


Complete = Callable[[Any, Path | None, "Run"], Any]
"""Completes a value of one output type: returns the response value, or an awaitable of it
when ``is_async`` (the subtree calls resolvers)."""


@dataclass(frozen=True, slots=True)
class Completer:
    complete: Complete
    is_async: bool


@dataclass(slots=True)
class Step:
    """A field of a selection that is not a plain leaf: a resolver, or a nested object."""

    key: str
    python_name: str
    definition: GraphQLField
    nodes: list[FieldNode]
    parent: GraphQLObjectType
    resolves: bool
    completer: Completer
    static_args: dict[str, Any] | None = None


@dataclass(slots=True)
class Run:
    """One request's state on the compiled path."""

    executor: StrawberryGraphQLCoreExecutionContext
    arguments: dict[int, dict[str, Any]] = field(default_factory=dict)

    def resolve(self, step: Step, source: Any, path: Path) -> Any:
        arguments = step.static_args
        if arguments is None:
            arguments = self.arguments.get(id(step))
            if arguments is None:
                executor = self.executor
                arguments = get_argument_values(
                    step.definition,
                    step.nodes[0],
                    executor.variable_values,
                    None,
                    executor.hide_suggestions,
                )
                self.arguments[id(step)] = arguments
        info = self.executor.build_resolve_info(step.definition, step.nodes, step.parent, path)
        resolve = step.definition.resolve
        assert resolve is not None
        return resolve(source, info, **arguments)
