"""The compiled path: a cached plan's query answered without the general executor.

graphql-core completes every field of every row through several Python calls (resolve,
complete, coerce, path bookkeeping). For a query whose plan is cached, this module
compiles, once per plan, what the executor would do: the grouped fields of every
selection set, and for every object type selected a generated function that builds the
row's response dict in one expression, leaves read and coerced inline (built-in scalars
need no call at all: ``v if v.__class__ is str else coerce(v)``). Only fields with
resolvers (root fields, relations, ``totalCount``) still call out, with a real
``GraphQLResolveInfo``, so resolvers, DataLoaders and disclosure run exactly as they do
on the general path; lists of such rows are gathered concurrently, so DataLoaders batch.

The compiled path answers only when nothing goes wrong: any exception (a resolver's
error, a null in a non-null field, a source that is not a dict) abandons it, and the
general executor answers the operation afresh, with a new disclosure context and new
loaders, so errors, their paths and null propagation are the executor's own. Structures
the compiler does not cover (abstract types, introspection fields, mutations) are never
compiled. A test runs the expectations matrix and the no-leak generator's queries
through both paths and compares the responses.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from inspect import isawaitable
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationType,
    Undefined,
    is_leaf_type,
    specified_scalar_types,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from fieldgate.authz.plans import CompiledCounts

STRAWBERRY_DEFINITION = "strawberry-definition"
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


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


# -- leaves ------------------------------------------------------------------------------
_FAST_CLASS: Mapping[str, type] = {"String": str, "ID": str, "Boolean": bool, "Int": int}


def _coercer(leaf: GraphQLLeafType, non_null: bool) -> Callable[[Any], Any]:
    coerce = leaf.coerce_output_value

    def coerced(value: Any) -> Any:
        if value is None:
            if non_null:
                raise Bailout(f"null for non-null {leaf.name}")
            return None
        out = coerce(value)
        if out is Undefined or out is None:
            raise Bailout(f"{leaf.name} cannot represent the value")
        return out

    return coerced


def _leaf_expression(
    variable: str, leaf: GraphQLLeafType, index: int, namespace: dict[str, Any], non_null: bool
) -> str:
    """The inline expression for one leaf: no call when the value already has the scalar's
    own Python class (and range), the scalar's coercion otherwise."""
    coerce = f"C{index}"
    namespace[coerce] = _coercer(leaf, non_null)
    fast = _FAST_CLASS.get(leaf.name) if _is_builtin(leaf) else None
    if fast is None:
        if non_null:
            return f"{coerce}({variable})"
        return f"(None if {variable} is None else {coerce}({variable}))"
    namespace[f"F{index}"] = fast
    test = f"{variable}.__class__ is F{index}"
    if fast is int:
        test += f" and {INT_MIN} <= {variable} <= {INT_MAX}"
    if non_null:
        return f"({variable} if {test} else {coerce}({variable}))"
    # a nullable field's null (a withheld value) needs no call either
    return f"({variable} if {test} else None if {variable} is None else {coerce}({variable}))"


def _is_builtin(leaf: GraphQLLeafType) -> bool:
    return specified_scalar_types.get(leaf.name) is leaf


# -- objects -----------------------------------------------------------------------------
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
                expression = _leaf_expression(variable, named, index, namespace, non_null)
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
                return _leaf_completer(inner, non_null=True)
            raise Unsupported(f"output type {inner}")
        if isinstance(output, GraphQLObjectType):
            return self.object_completer(self.subshape(output, details), non_null=False)
        if isinstance(output, GraphQLList):
            return self.list_completer(output, details, non_null=False)
        if is_leaf_type(output):
            assert isinstance(output, GraphQLLeafType)
            return _leaf_completer(output, non_null=False)
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
            result = (
                run.resolve(step, value, path) if step.resolves else value.get(step.python_name)
            )
            if isawaitable(result):
                result = await result
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


def _leaf_completer(leaf: GraphQLLeafType, *, non_null: bool) -> Completer:
    coerce = _coercer(leaf, non_null)

    def leaf_value(value: Any, path: Path | None, run: Run) -> Any:
        return coerce(value)

    return Completer(leaf_value, is_async=False)


CompiledOperation = Callable[[Run], Awaitable[dict[str, Any]]]


def compile_operation(executor: StrawberryGraphQLCoreExecutionContext) -> CompiledOperation:
    """Compile the executor's operation; raises :class:`Unsupported` when not covered."""
    return Compiler(executor).operation()


@dataclass(slots=True)
class CompiledRequest:
    """What the disclosure extension hands the executor for a query whose plan is cached.

    ``store`` is the plan's own slot for its compiled operation (``None`` once found
    unsupported); ``restart`` gives the request a fresh disclosure context and loaders
    before the general executor answers instead; ``counts`` gathers runs and fallbacks.
    """

    store: dict[str, CompiledOperation | None]
    restart: Callable[[], None]
    counts: CompiledCounts


class FieldgateExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, answering through the compiled path when it is handed one."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        request: CompiledRequest | None = getattr(self.context_value, "compiled", None)
        if request is None or serially:
            return super().execute_operation(serially)
        store = request.store
        if "query" not in store:
            try:
                store["query"] = compile_operation(self)
            except Unsupported:
                store["query"] = None
                request.counts.unsupported += 1
        operation = store["query"]
        if operation is None:
            return super().execute_operation(serially)
        return self._answer(operation, request)

    async def _answer(self, operation: CompiledOperation, request: CompiledRequest) -> Any:
        try:
            data = await operation(Run(self))
        except Exception as error:  # any doubt: the general executor answers afresh
            request.counts.fallbacks += 1
            if isinstance(error, AttributeError):  # a source that is not a dict: never again
                request.store["query"] = None
            request.restart()
            result = super().execute_operation(None)
            return await result if isawaitable(result) else result
        request.counts.runs += 1
        return self.build_response(data)
