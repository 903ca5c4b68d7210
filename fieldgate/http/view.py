"""Strawberry's ASGI view, speaking the GraphQL-over-HTTP specification.

- Answers are ``application/graphql-response+json`` when the client asks for it, then a
  request that fails before execution (parse, validation, limits) is a 400 without
  ``data``; with ``application/json`` it stays the legacy 200. Both name UTF-8.
- Every refusal is a JSON body whose error has a code, never Strawberry's plain text.
- GET never runs a mutation (405, ``Allow: POST``).
- JSON array batching only when configured, one operation after another, each with its
  own request context (the disclosure state belongs to one operation).
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData, GraphQLRequestProtocol
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from fieldgate.authz.principal import Principal
from fieldgate.errors import (
    BatchingDisabled,
    BatchTooLarge,
    DocumentNotAllowed,
    IntrospectionDisabled,
    MethodNotAllowed,
    NotFound,
    PersistedQueryHashMismatch,
    PersistedQueryInvalid,
    PersistedQueryNotFound,
    QueryRefused,
    QueryTooCostly,
    QueryTooDeep,
    QueryTooManyAliases,
    QueryTooManyDirectives,
    QueryTooManyRootFields,
    QueryTooManyTokens,
    RequestRefused,
)
from fieldgate.http.auth import principal_of
from fieldgate.http.media import GRAPHQL_MEDIA_TYPE, JSON, response_media_type
from fieldgate.http.persisted import DocumentGate
from fieldgate.http.rate_limit_guard import rate_limited
from fieldgate.http.refusals import HTTPRefusal, refusal_response
from fieldgate.resolvers.context import RequestContext
from fieldgate.resolvers.outcomes import CostRefused, DatabaseFaulted

ContextT = TypeVar("ContextT")

# Codes of errors raised before execution: the request, not the data, was wrong.
REQUEST_ERROR_CODES = frozenset(
    {
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        IntrospectionDisabled.code,
        QueryTooManyTokens.code,
        QueryTooDeep.code,
        QueryTooManyAliases.code,
        QueryTooManyDirectives.code,
        QueryTooManyRootFields.code,
        QueryTooCostly.code,
        DocumentNotAllowed.code,
        PersistedQueryNotFound.code,
        PersistedQueryHashMismatch.code,
        PersistedQueryInvalid.code,
    }
)


class GraphQLOverHTTP(GraphQL[ContextT, None], Generic[ContextT]):
    """The view; ``max_batch`` above 1 allows JSON arrays of at most that many operations."""

    def __init__(
        self,
        schema: Any,
        *,
        max_batch: int = 0,
        documents: DocumentGate | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(schema, **kwargs)
        self.max_batch = max_batch
        self.documents = documents

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        media_type = response_media_type(request.headers.get("accept")) or JSON
        try:
            response = await self.run(request)
        except HTTPRefusal as refusal:
            response = refusal_response(refusal, media_type)
        except HTTPException as exc:
            response = refusal_response(_from_strawberry(exc), media_type)
        await response(scope, receive, send)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """Not for a GET that carries a persisted query in ``extensions`` and no ``query``."""
        if "extensions" in request.query_params:
            return False
        return super().should_render_graphql_ide(request)

    def encode_json(self, data: object) -> bytes:
        """orjson: the response of a 100-row page is encoded ~10x faster than by ``json``."""
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        """orjson: faster, and bytes that are not UTF-8 are a JSON error like any other."""
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        value = super().parse_json(data)
        if not isinstance(value, (dict, list)):
            raise HTTPRefusal(400, RequestRefused("expected a JSON object"))
        return value

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        parsed = await super().parse_http_body(request)
        for operation in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(operation.operation_name, (str, type(None))):
                raise HTTPRefusal(400, RequestRefused("operationName must be a string or null"))
        return parsed

    def _validate_batch_request(
        self, request_data: list[GraphQLRequestData], protocol: GraphQLRequestProtocol
    ) -> None:
        """Strawberry's check of a JSON array body (the items are still raw JSON)."""
        if self.max_batch <= 1:
            off = BatchingDisabled("batching is off: send one operation per request")
            raise HTTPRefusal(400, off)
        if len(request_data) > self.max_batch:
            limit = self.max_batch
            refused = BatchTooLarge(f"a batch holds at most {limit} operations", limit=limit)
            raise HTTPRefusal(400, refused)
        if not all(isinstance(item, dict) for item in request_data):
            raise HTTPRefusal(400, RequestRefused("each operation must be a JSON object"))

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: ContextT,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        if not isinstance(request_data, list):
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        results = []
        for operation in request_data:
            own_context = await self.get_context(request, sub_response)
            results.append(
                await self.execute_single(
                    request, request_adapter, sub_response, own_context, root_value, operation
                )
            )
        return results

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: ContextT,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        resolved = None
        if self.documents is not None:
            # persisted queries and trusted documents: before Strawberry parses anything
            try:
                resolved = await self.documents.resolve(_principal(request), request_data)
            except QueryRefused as refusal:
                return _refused(refusal)
            request_data = resolved.request_data
        try:
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        except HTTPException as exc:
            if request_adapter.method == "GET" and isinstance(
                exc.__cause__, InvalidOperationTypeError
            ):
                refused = MethodNotAllowed("GET runs queries only; send mutations with POST")
                raise HTTPRefusal(405, refused, headers={"Allow": "POST"}) from None
            raise
        _answer_outcome(context, result, sub_response)
        if self.documents is not None and resolved is not None and not _is_request_error(result):
            await self.documents.remember(_principal(request), resolved)
        return result

    async def get_sub_response(self, request: Request) -> Response:  # type: ignore[override]
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = response_media_type(request.headers.get("accept")) or JSON
        return sub_response

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        processed = await super().process_result(request, result)
        errors = processed.get("errors")
        if errors:
            processed["errors"] = [_coded(error) for error in errors]
        if _is_request_error(result) and (
            response_media_type(request.headers.get("accept")) == GRAPHQL_MEDIA_TYPE
        ):
            processed.pop("data", None)  # nothing was executed: no data entry at all
        return processed

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        media_type = sub_response.media_type or JSON
        failed_before_execution = (
            media_type == GRAPHQL_MEDIA_TYPE
            and isinstance(response_data, dict)
            and "data" not in response_data
        )
        response = Response(
            self.encode_json(response_data),
            status_code=sub_response.status_code or (400 if failed_before_execution else 200),
            media_type=f"{media_type}; charset=utf-8",
        )
        response.headers.raw.extend(sub_response.headers.raw)
        if sub_response.background:
            response.background = sub_response.background
        return response


def _answer_outcome(context: object, result: ExecutionResult, sub_response: Response) -> None:
    """The status of what the GraphQL layer recorded: the cost limit refuses inside the
    schema (it needs the parsed operation) and is a 429 with ``Retry-After`` here, like the
    request limit; a result replaced after a database fault is a 503, and so is any other
    answer with ``SERVICE_UNAVAILABLE`` (the audit trail could not take it): that code
    always comes with 503, so a client or a load balancer may retry on the status alone."""
    outcome = context.outcome if isinstance(context, RequestContext) else None
    if isinstance(outcome, CostRefused):
        raise rate_limited(outcome.exceeded)
    unavailable = any(
        (error.extensions or {}).get("code") == "SERVICE_UNAVAILABLE"
        for error in result.errors or ()
    )
    if isinstance(outcome, DatabaseFaulted) or unavailable:
        sub_response.status_code = 503


def _is_request_error(result: ExecutionResult) -> bool:
    """Refused before execution: no data, and every error is about the request."""
    if result.data is not None or not result.errors:
        return False
    return all((e.extensions or {}).get("code") in REQUEST_ERROR_CODES for e in result.errors)


def _principal(request: Request) -> Principal:
    return principal_of(request.scope)


def _refused(refused: QueryRefused) -> ExecutionResult:
    """A refusal before parsing, shaped like any request error (the view picks the status)."""
    extensions = {"code": refused.code, **refused.extensions}
    return ExecutionResult(data=None, errors=[GraphQLError(refused.message, extensions=extensions)])


def _coded(error: object) -> object:
    """An error that reached the edge without a code (an exception that escaped the schema
    extensions) leaves as an internal error: its message could carry anything."""
    if isinstance(error, dict) and "code" in (error.get("extensions") or {}):
        return error
    return {"message": "internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}


def _from_strawberry(exc: HTTPException) -> HTTPRefusal:
    """Strawberry's own refusals (malformed body, unknown operation, …) with codes."""
    if exc.status_code == 404:
        return HTTPRefusal(404, NotFound("not found"))
    if exc.status_code == 405:
        return HTTPRefusal(405, MethodNotAllowed(exc.reason), headers={"Allow": "GET, POST"})
    status = exc.status_code if 400 <= exc.status_code < 500 else 400
    return HTTPRefusal(status, RequestRefused(exc.reason))
