"""The composition root: ``create_app`` builds every service (:mod:`fieldgate.app.services`)
and the Starlette application."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from fieldgate.app.services import attach_policy_control, build_services, record_policy_version
from fieldgate.documents.store import TrustedDocuments
from fieldgate.errors import NotFound
from fieldgate.http.auth import TokenAuthBackend, authentication_error_response, principal_of
from fieldgate.http.console import console_routes
from fieldgate.http.cors import cors_middleware
from fieldgate.http.envelope import error_response
from fieldgate.http.guard import RequestGuard
from fieldgate.http.media import JSON
from fieldgate.http.observer import RequestObserver, current_request_id, remember_context
from fieldgate.http.operations import operations_routes
from fieldgate.http.persisted import DocumentGate
from fieldgate.http.rate_limit_guard import RateLimitGuard
from fieldgate.http.secure_headers import SecureHeaders
from fieldgate.http.view import GraphQLOverHTTP
from fieldgate.observability.access_log import redact_access_log_queries
from fieldgate.observability.logging import configure_logging
from fieldgate.observability.request_id import request_id_of
from fieldgate.resolvers.context import RequestContext, Services
from fieldgate.settings import Settings

__all__ = ["FieldgateGraphQL", "build_services", "create_app", "document_gate"]

STRICT_HEADER = "fieldgate-strict"
REQUEST_ID_HEADER = "x-request-id"


class FieldgateGraphQL(GraphQLOverHTTP[RequestContext]):
    """Strawberry's ASGI view with fieldgate's request context."""

    def __init__(self, services: Services, **kwargs: Any) -> None:
        super().__init__(services.schema, **kwargs)
        self.services = services

    def encode_json(self, data: object) -> bytes:
        """orjson: faster, and UTF-8 as it is rather than ``\\u`` escapes."""
        return orjson.dumps(data)

    async def get_context(self, request: Request, response: Any) -> RequestContext:  # type: ignore[override]
        principal = principal_of(request.scope)
        headers = request.headers
        strict = principal.strict or headers.get(STRICT_HEADER) == "1"
        do_not_track = headers.get("dnt") == "1" or headers.get("sec-gpc") == "1"
        # one id per request: the request line's, when the observer gave one
        request_id = current_request_id(request) or request_id_of(headers.get(REQUEST_ID_HEADER))
        response.headers[REQUEST_ID_HEADER] = request_id
        context = RequestContext(
            self.services,
            principal,
            request,
            strict,
            do_not_track=do_not_track,
            request_id=request_id,
        )
        remember_context(request, context)  # for the request line and the metrics
        return context


def document_gate(services: Services) -> DocumentGate:
    """Persisted queries always; partners held to trusted documents when the settings say."""
    engine = services.engine
    trusted = TrustedDocuments(engine) if services.settings.trusted_documents_enabled else None
    return DocumentGate(engine, trusted=trusted)


def create_app(settings: Settings | None = None, **overrides: Any) -> Starlette:
    """The ASGI application (``uvicorn --factory fieldgate.app:create_app``)."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    services = build_services(settings, **overrides)
    attach_policy_control(services)
    redact_access_log_queries()  # GET URLs carry operations, and arguments may be secrets
    graphql = FieldgateGraphQL(
        services,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        allow_queries_via_get=True,
        max_batch=settings.max_batch,
        documents=document_gate(services),
    )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def schema_sdl(request: Request) -> Response:
        principal = principal_of(request.scope)
        views = services.schema_views
        if views is None:
            return PlainTextResponse(services.schema.as_str())
        if settings.is_production and not principal.is_authenticated:
            return error_response(NotFound("not found"), 404, content_type=JSON, with_data=False)
        view = views.for_principal(principal, services.policy)
        return PlainTextResponse(services.schema.as_str() if view is None else view.sdl)

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        *operations_routes(services),  # /readyz, /metrics
        Route("/graphql", graphql),  # methods: RequestGuard answers the others
    ]
    if not settings.is_production or services.schema_views is not None:
        routes.insert(2, Route("/graphql/schema.graphql", schema_sdl))
    if settings.console_enabled:
        routes.extend(console_routes(services, development=not settings.is_production))
    limiter = services.rate_limiter
    limiter.set_hooks(on_refused=services.metrics.rate_limited.inc)
    watcher = services.policy_watcher

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Everything built so far lives as long as the process: keep the collector off it.
        gc.collect()
        gc.freeze()
        if watcher is not None:
            await watcher.start()  # the database policy, before any request
        if services.audit is not None:
            await services.audit.start()
            await record_policy_version(services)
        yield
        if watcher is not None:
            await watcher.stop()
        if services.audit is not None:
            await services.audit.close()  # a clean shutdown stores every accepted event
        await limiter.close()
        await services.engine.dispose()

    app = Starlette(
        routes=routes,
        middleware=[
            # Outermost first: every answer is hardened, CORS covers refusals too, and
            # the guard refuses before any token is checked.
            Middleware(SecureHeaders, production=settings.is_production, no_store_path="/graphql"),
            Middleware(RequestObserver, metrics=services.metrics),  # request id, line, metrics
            *cors_middleware(settings.cors_allowed_origins, settings.cors_allowed_headers),
            Middleware(RequestGuard, path="/graphql", max_body_bytes=settings.max_body_bytes),
            Middleware(
                AuthenticationMiddleware,
                backend=TokenAuthBackend(services.tokens, services.revocations),
                on_error=authentication_error_response,
            ),
            # after authentication: it counts per token, per partner, per client IP
            Middleware(RateLimitGuard, path="/graphql", limiter=limiter),
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
