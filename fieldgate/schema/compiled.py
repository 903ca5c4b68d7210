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

This module is the executor's side; the compiler is ``compiler.py``, with leaves in
``compiled_leaves.py`` and what runs per request in ``compiled_run.py``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import isawaitable
from typing import Any, Protocol, runtime_checkable

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from fieldgate.authz.plans import CompiledRequest
from fieldgate.schema.compiled_run import Run, Unsupported
from fieldgate.schema.compiler import Compiler

CompiledOperation = Callable[[Run], Awaitable[dict[str, Any]]]


def compile_operation(executor: StrawberryGraphQLCoreExecutionContext) -> CompiledOperation:
    """Compile the executor's operation; raises :class:`Unsupported` when not covered."""
    return Compiler(executor).operation()


@runtime_checkable
class TakesCompiledPath(Protocol):
    """A request context that may hand the executor a compiled path (``RequestContext``)."""

    compiled: CompiledRequest | None


class FieldgateExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, answering through the compiled path when it is handed one."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        context = self.context_value
        request = context.compiled if isinstance(context, TakesCompiledPath) else None
        if request is None or serially:
            return super().execute_operation(serially)
        store = request.store
        if "query" not in store:
            try:
                store["query"] = compile_operation(self)
            except Unsupported:
                store["query"] = None
                request.counts.unsupported += 1
        operation: CompiledOperation | None = store["query"]
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
