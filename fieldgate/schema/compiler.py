"""Compiling an operation for the compiled path: the grouped fields of every selection set
and, for every object type selected, a generated function that builds the row's response
dict in one expression (see ``fieldgate.schema.compiled``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationType,
    is_leaf_type,
    is_non_null_type,
    located_error,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    collect_fields,
    collect_subfields,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from fieldgate.errors import FieldgateError
from fieldgate.schema.compiled_leaves import leaf_completer, leaf_expression
from fieldgate.schema.compiled_run import Bailout, Completer, Run, Step, Unsupported

STRAWBERRY_DEFINITION = "strawberry-definition"


@dataclass(slots=True)
class Shape:
    """One object type under one selection: its generated builder and its steps."""

    type_name: str
    build: Callable[[Any], dict[str, Any]]
    steps: list[Step]

    @property
    def is_async(self) -> bool:
        return any(step.resolves or step.completer.is_async for step in self.steps)


class Compiler:
    """Compiles one operation against the schema, with the first request's executor state
    (fragments, the variables that decide ``@skip``/``@include`` — part of the plan's key)."""

    def __init__(self, executor: StrawberryGraphQLCoreExecutionContext) -> None:
        self.executor = executor

    def operation(self) -> Callable[[Run], Awaitable[dict[str, Any]]]:
        executor = self.executor
        operation = executor.operation
        if operation.operation is not OperationType.QUERY:
            raise Unsupported("only queries are compiled")
        root = executor.schema.get_root_type(operation.operation)
        assert root is not None
        grouped, defers, _ = collect_fields(
            executor.schema,
            executor.fragments,
            executor.variable_values,
            root,
            operation,
            executor.hide_suggestions,
        )
        if defers:
            raise Unsupported("incremental delivery")
        shape = self.shape(root, grouped)
        if any(not step.resolves for step in shape.steps):
            raise Unsupported("a root field without a resolver")
        complete = self.object_completer(shape, non_null=True, root=True).complete

        async def run(state: Run) -> dict[str, Any]:
            result = complete(state.executor.root_value, None, state)
            data: dict[str, Any] = await result if isawaitable(result) else result
            return data

        return run

    def shape(self, parent: GraphQLObjectType, grouped: Mapping[str, FieldDetailsList]) -> Shape:
        namespace: dict[str, Any] = {}
        reads: list[str] = []
        items: list[str] = []
        steps: list[Step] = []
        for key, details in grouped.items():
            nodes = [d.node for d in details]
            name = nodes[0].name.value
            if name == "__typename":
                items.append(f"{key!r}: {parent.name!r}")
                continue
            if name.startswith("__"):
                raise Unsupported("introspection")
            definition = parent.fields.get(name)
            if definition is None:
                raise Unsupported(f"unknown field {parent.name}.{name}")
            strawberry_field = definition.extensions.get(STRAWBERRY_DEFINITION)
            if strawberry_field is None:
                raise Unsupported(f"{parent.name}.{name} is not a Strawberry field")
            python_name: str = strawberry_field.python_name
            resolves = bool(
                strawberry_field.base_resolver
                or strawberry_field.extensions
                or strawberry_field.permission_classes
            )
            field_type = definition.type
            non_null = isinstance(field_type, GraphQLNonNull)
            named = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
            if not resolves and is_leaf_type(named):
                index = len(reads)
                variable = f"v{index}"
                reads.append(f"    {variable} = g({python_name!r})")
                assert isinstance(named, GraphQLLeafType)
                expression = leaf_expression(variable, named, index, namespace, non_null)
                items.append(f"{key!r}: {expression}")
                continue
            completer = self.completer(field_type, details)
            static_args: dict[str, Any] | None = None
            if resolves and not definition.args and not nodes[0].arguments:
                static_args = {}
            steps.append(
                Step(key, python_name, definition, nodes, parent, resolves, completer, static_args)
            )
            items.append(f"{key!r}: None")  # filled in by the step, in the executor's order
        source = ["def build(row):"]
        if reads:
            source.append("    g = row.get")
            source.extend(reads)
        source.append("    return {" + ", ".join(items) + "}")
        code = compile("\n".join(source), f"<fieldgate compiled {parent.name}>", "exec")
        exec(code, namespace)  # the source above holds schema names and nothing from a request
        return Shape(parent.name, namespace["build"], steps)

    def completer(self, output: GraphQLOutputType, details: FieldDetailsList) -> Completer:
        if isinstance(output, GraphQLNonNull):
            inner = output.of_type
            if isinstance(inner, GraphQLObjectType):
                return self.object_completer(self.subshape(inner, details), non_null=True)
            if isinstance(inner, GraphQLList):
                return self.list_completer(inner, details, non_null=True)
            if is_leaf_type(inner):
                assert isinstance(inner, GraphQLLeafType)
                return leaf_completer(inner, non_null=True)
            raise Unsupported(f"output type {inner}")
        if isinstance(output, GraphQLObjectType):
            return self.object_completer(self.subshape(output, details), non_null=False)
        if isinstance(output, GraphQLList):
            return self.list_completer(output, details, non_null=False)
        if is_leaf_type(output):
            assert isinstance(output, GraphQLLeafType)
            return leaf_completer(output, non_null=False)
        raise Unsupported(f"output type {output} (abstract types are not compiled)")

    def subshape(self, object_type: GraphQLObjectType, details: FieldDetailsList) -> Shape:
        if object_type.is_type_of is not None:
            raise Unsupported("types with is_type_of")
        executor = self.executor
        grouped, defers, _ = collect_subfields(
            executor.schema,
            executor.fragments,
            executor.variable_values,
            executor.operation,
            object_type,
            details,
            executor.hide_suggestions,
        )
        if defers:
            raise Unsupported("incremental delivery")
        return self.shape(object_type, grouped)

    def object_completer(self, shape: Shape, *, non_null: bool, root: bool = False) -> Completer:
        build, steps, type_name = shape.build, shape.steps, shape.type_name
        if not shape.is_async:
            if not steps:

                def leaves_only(value: Any, path: Path | None, run: Run) -> Any:
                    if value is None:
                        if non_null:
                            raise Bailout(f"null for non-null {type_name}")
                        return None
                    return build(value)

                return Completer(leaves_only, is_async=False)

            def nested(value: Any, path: Path | None, run: Run) -> Any:
                if value is None:
                    if non_null:
                        raise Bailout(f"null for non-null {type_name}")
                    return None
                out = build(value)
                for step in steps:
                    out[step.key] = step.completer.complete(value.get(step.python_name), None, run)
                return out

            return Completer(nested, is_async=False)

        async def field_value(step: Step, value: Any, path: Path, run: Run) -> Any:
            try:
                result = (
                    run.resolve(step, value, path) if step.resolves else value.get(step.python_name)
                )
                if isawaitable(result):
                    result = await result
            except FieldgateError as refused:
                if not root or is_non_null_type(step.definition.type):
                    raise
                # A nullable root field's coded refusal (NOT_FOUND) is answered here as the
                # executor would (null and its error): running it again would repeat its SQL.
                error = located_error(refused, step.nodes, path.as_list())
                run.executor.collected_errors.add(error, path)
                return None
            completed = step.completer.complete(result, path, run)
            return await completed if step.completer.is_async else completed

        async def with_resolvers(value: Any, path: Path | None, run: Run) -> Any:
            if value is None and not root:
                if non_null:
                    raise Bailout(f"null for non-null {type_name}")
                return None
            out = build(value)
            pending: list[tuple[str, Awaitable[Any]]] = []
            for step in steps:
                here = Path(path, step.key, type_name)
                if step.resolves or step.completer.is_async:
                    pending.append((step.key, field_value(step, value, here, run)))
                else:
                    out[step.key] = step.completer.complete(value.get(step.python_name), None, run)
            if len(pending) == 1:
                key, awaitable = pending[0]
                out[key] = await awaitable
            elif pending:
                values = await run.executor.async_helpers.gather([a for _, a in pending])
                for (key, _), resolved in zip(pending, values, strict=True):
                    out[key] = resolved
            return out

        return Completer(with_resolvers, is_async=True)

    def list_completer(
        self, output: GraphQLList[Any], details: FieldDetailsList, *, non_null: bool
    ) -> Completer:
        item = self.completer(output.of_type, details)
        complete_item = item.complete

        if not item.is_async:

            def items(value: Any, path: Path | None, run: Run) -> Any:
                if value is None:
                    if non_null:
                        raise Bailout("null for a non-null list")
                    return None
                return [complete_item(one, None, run) for one in value]

            return Completer(items, is_async=False)

        async def gathered(value: Any, path: Path | None, run: Run) -> Any:
            if value is None:
                if non_null:
                    raise Bailout("null for a non-null list")
                return None
            awaitables = [
                complete_item(one, Path(path, index, None), run) for index, one in enumerate(value)
            ]
            if not awaitables:
                return []
            return list(await run.executor.async_helpers.gather(awaitables))

        return Completer(gathered, is_async=True)
