"""The query-cost limit: each operation's estimated cost is charged to its caller's budget
of the minute before it executes; over budget, nothing runs and the request context says
so (:class:`~fieldgate.resolvers.outcomes.CostRefused`: HTTP 429 at the edge)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension

from fieldgate.errors import RateLimited
from fieldgate.ratelimit.limiter import Exceeded, principal_keys
from fieldgate.resolvers.context import RequestContext
from fieldgate.resolvers.outcomes import CostRefused
from fieldgate.schema.limits import QueryLimits
from fieldgate.schema.shape import measure


class CostCharge(SchemaExtension):
    """Charges the operation's cost (``shape.measure``) when a cost limit is set."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context: RequestContext = execution.context
        services = context.services
        limiter = services.rate_limiter
        document = execution.graphql_document
        if limiter.cost > 0 and document is not None and execution.result is None:
            operation = get_operation_ast(document, execution.operation_name)
            if operation is not None:
                pages = QueryLimits.from_settings(services.settings).pages
                try:
                    cost = measure(execution.schema._schema, document, operation, pages).cost
                except RecursionError:  # the depth limit refuses these before execution
                    cost = 0
                exceeded = await limiter.charge_cost(_keys(context), cost)
                if exceeded is not None:
                    context.outcome = CostRefused(exceeded)
                    execution.result = GraphQLExecutionResult(None, [_error(exceeded)])
        yield


def _keys(context: RequestContext) -> tuple[str, ...]:
    request = context.request
    client = request.client if request is not None else None
    return principal_keys(context.principal, client.host if client is not None else None)


def _error(exceeded: Exceeded) -> GraphQLError:
    refused = RateLimited(
        f"rate limit exceeded ({exceeded.limit} per minute)",
        limit=exceeded.limit,
        retryAfter=exceeded.retry_after,
    )
    return GraphQLError(refused.message, extensions={"code": refused.code, **refused.extensions})
