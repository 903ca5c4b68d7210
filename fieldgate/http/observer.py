"""The request line: one JSON log line and the metrics of every HTTP request.

An ASGI middleware, outermost but for the secure headers: it gives the request its id
(``X-Request-Id`` when it is a plain token, else a new one), echoes it in the response,
and after the answer logs method, path (never the query string), status, duration, the
principal's kind and roles, the purpose and the operation name. A database fault that
escapes the application (for example while a token's revocation is checked) becomes a
503 with one ``SERVICE_UNAVAILABLE`` error; a client that left before its body arrived is
logged as gone (status 499, as nginx logs it) and answered nothing; any other escaped error
a 500 with an error id.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from typing import Any

import structlog
from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fieldgate.authz.decisions import Disclosure
from fieldgate.authz.disclosure import DisclosureContext
from fieldgate.errors import FieldgateError
from fieldgate.http.auth import AuthenticatedUser
from fieldgate.http.envelope import error_response
from fieldgate.http.faults import unavailable_response
from fieldgate.http.media import JSON
from fieldgate.infra.faults import database_fault
from fieldgate.observability.metrics import Metrics
from fieldgate.observability.request_id import request_id_of
from fieldgate.resolvers.context import RequestContext
from fieldgate.resolvers.outcomes import DatabaseFaulted

REQUEST_ID_HEADER = "x-request-id"
CLIENT_CLOSED = 499  # the request line's status when the client left before the answer
_STATE_ID = "request_id"
_STATE_CONTEXTS = "graphql_contexts"

log = structlog.get_logger("fieldgate.request")


def current_request_id(request: Request) -> str | None:
    """The id the middleware gave this request (None outside it)."""
    found = request.scope.get("state", {}).get(_STATE_ID)
    return found if isinstance(found, str) else None


def remember_context(request: Request, context: RequestContext) -> None:
    """Keep a GraphQL context on the request, for the request line and the metrics."""
    request.scope.setdefault("state", {}).setdefault(_STATE_CONTEXTS, []).append(context)


def _contexts(scope: Scope) -> list[RequestContext]:
    found = scope.get("state", {}).get(_STATE_CONTEXTS, [])
    return [c for c in found if isinstance(c, RequestContext)]


def disclosure_outcomes(disclosure: DisclosureContext) -> set[tuple[str, str]]:
    """The ``(coordinate, outcome)`` pairs of one operation: personal fields that could be
    disclosed in full, and the selections masked or denied."""
    pairs = {(c, str(d)) for c, d in disclosure.audited}
    pairs.update(
        (c, str(Disclosure.FULL))
        for c in disclosure.plan.coordinates(Disclosure.FULL)
        if c in disclosure.personal_coordinates
    )
    pairs.update((c, str(Disclosure.MASKED)) for c in disclosure.masked_coordinates)
    pairs.update((c, str(Disclosure.DENIED)) for c in disclosure.summary()["denied"])
    return pairs


class RequestObserver:
    """Request id, request line, request metrics, and the last line of fault handling."""

    def __init__(
        self, app: ASGIApp, *, metrics: Metrics | None = None, graphql_path: str = "/graphql"
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.graphql_path = graphql_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(_header(scope, REQUEST_ID_HEADER))
        scope.setdefault("state", {})[_STATE_ID] = request_id
        started = time.perf_counter()
        sent: dict[str, Any] = {"status": 500, "started": False}

        async def send_observed(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
                sent.update(status=message["status"], started=True)
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_observed)
            except ClientDisconnect:  # nobody is left to answer: not the gateway's fault
                if not sent["started"]:
                    sent["status"] = CLIENT_CLOSED
                log.info("client_disconnected")
            except Exception as error:
                if sent["started"]:
                    raise  # nothing more can be said to this client
                await self._answer(error)(scope, receive, send_observed)
            finally:
                self._observe(scope, sent["status"], time.perf_counter() - started)

    def _answer(self, error: Exception) -> Response:
        fault = database_fault(error)
        if fault is not None:
            log.warning("database_unavailable", code="SERVICE_UNAVAILABLE", reason=fault.value)
            if self.metrics is not None:
                self.metrics.database_up.set(0)
            return unavailable_response(fault)
        error_id = uuid.uuid4().hex
        log.error("request_failed", code="INTERNAL_SERVER_ERROR", error_id=error_id)
        internal = FieldgateError("internal error", errorId=error_id)
        return error_response(internal, 500, content_type=JSON)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        contexts = _contexts(scope)
        user = scope.get("user")
        principal = user.principal if isinstance(user, AuthenticatedUser) else None
        first = contexts[0] if contexts else None
        disclosure = first.disclosure if first is not None else None
        fields: dict[str, Any] = {
            "method": scope.get("method"),
            "path": scope.get("path"),  # the query string is never logged
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        }
        if principal is not None:
            fields["principal_kind"] = str(principal.kind)
            fields["roles"] = sorted(principal.roles)
        if scope.get("path") == self.graphql_path:
            fields["purpose"] = disclosure.plan.purpose if disclosure is not None else None
            fields["operation"] = first.operation_name if first is not None else None
        if any(isinstance(c.outcome, DatabaseFaulted) for c in contexts):
            fields["code"] = "SERVICE_UNAVAILABLE"
            if self.metrics is not None:
                self.metrics.database_up.set(0)
        if status >= 500:
            log.warning("request", **fields)
        else:
            log.info("request", **fields)
        if self.metrics is None:
            return
        self.metrics.count_request(_operation_type(scope, contexts), status, seconds)
        if principal is not None:
            for context in contexts:
                faulted = isinstance(context.outcome, DatabaseFaulted)
                if context.disclosure is not None and not faulted:
                    self.metrics.count_disclosures(
                        disclosure_outcomes(context.disclosure),
                        principal.roles,
                        context.disclosure.plan.purpose,
                    )


def _operation_type(scope: Scope, contexts: Iterable[RequestContext]) -> str:
    types = {c.operation_type for c in contexts if c.operation_type}
    if len(types) == 1:
        return types.pop()
    if types:
        return "batch"
    return "none"


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode("latin-1")
    for key, value in scope.get("headers", ()):
        if key.lower() == wanted:
            return str(value.decode("latin-1"))
    return None
