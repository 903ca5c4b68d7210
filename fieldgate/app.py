"""The composition root: ``create_app`` builds every service and the Starlette application."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from fieldgate.audit.chain import AuditKey, load_audit_key
from fieldgate.audit.events import AuditSink
from fieldgate.audit.request import request_id_from
from fieldgate.audit.store import DatabaseAuditSink
from fieldgate.audit.writer import AuditWriter
from fieldgate.authz.classification import Catalog, Level
from fieldgate.authz.disclosure import MaskResolver
from fieldgate.authz.lint import lint_policy
from fieldgate.authz.masking import MaskFunction, MaskStrategy, mask_function
from fieldgate.authz.plans import PlanCache
from fieldgate.authz.policy import Policy, load_policy
from fieldgate.authz.principal import ANONYMOUS, Principal
from fieldgate.authz.purposes import load_purposes
from fieldgate.authz.shadow import ShadowPolicy
from fieldgate.crypto.encrypted import ENCRYPTED_COORDINATES
from fieldgate.crypto.keyring import Keyring, load_keyring
from fieldgate.documents.store import TrustedDocuments
from fieldgate.errors import PolicyError, SchemaMisdeclared
from fieldgate.http.console import console_routes
from fieldgate.http.cors import check_origins, cors_middleware
from fieldgate.http.guard import RequestGuard
from fieldgate.http.observer import RequestObserver, current_request_id, remember_context
from fieldgate.http.operations import operations_routes
from fieldgate.http.persisted import DocumentGate
from fieldgate.http.rate_limit_guard import RateLimitGuard
from fieldgate.http.secure_headers import SecureHeaders
from fieldgate.http.view import GraphQLOverHTTP
from fieldgate.identity.authn import (
    DatabaseRevocations,
    RevocationChecker,
    TokenAuthBackend,
    authentication_error_response,
)
from fieldgate.identity.signing_key import SigningKey, load_signing_key
from fieldgate.identity.tokens import TokenService
from fieldgate.infra.db import create_engine, engine_options
from fieldgate.observability.access_log import redact_access_log_queries
from fieldgate.observability.logging import configure_logging
from fieldgate.policy_store.changes import PolicyAdministration
from fieldgate.policy_store.database import DatabasePolicyStore
from fieldgate.policy_store.watch import PolicySource, PolicyWatcher, check_policy
from fieldgate.ratelimit.limiter import RateLimiter
from fieldgate.resolvers.context import RequestContext, Services
from fieldgate.schema import build_schema
from fieldgate.schema.catalog import build_catalog
from fieldgate.schema.describe import describe_schema
from fieldgate.schema.limits import QueryLimits
from fieldgate.schema.views import SchemaViews
from fieldgate.settings import Settings

STRICT_HEADER = "fieldgate-strict"
REQUEST_ID_HEADER = "x-request-id"

log = structlog.get_logger("fieldgate.app")


def pseudonym_key(signing_key: SigningKey) -> bytes:
    """A key for PSEUDONYM masks, derived from the signing key (one secret to keep)."""
    raw = signing_key.private_key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"fieldgate pseudonym"
    ).derive(raw)


def mask_resolver(key: bytes) -> MaskResolver:
    functions: dict[MaskStrategy, MaskFunction] = {
        strategy: mask_function(strategy, pseudonym_key=key) for strategy in MaskStrategy
    }
    return functions.__getitem__


@dataclass
class AppServices(Services):
    """Services plus what only the HTTP layer needs."""

    schema: Any = None
    revocations: RevocationChecker | None = None
    keyring: Keyring | None = None
    policy_watcher: PolicyWatcher | None = None
    policy_admin: PolicyAdministration | None = None
    shadow: ShadowPolicy | None = None  # a candidate policy compared with the live one
    schema_views: SchemaViews | None = None  # each principal's view of the schema
    rate_limiter: RateLimiter | None = None


class FieldgateGraphQL(GraphQLOverHTTP[RequestContext]):
    """Strawberry's ASGI view with fieldgate's request context."""

    def __init__(self, services: AppServices, **kwargs: Any) -> None:
        super().__init__(services.schema, **kwargs)
        self.services = services

    def encode_json(self, data: object) -> bytes:
        """orjson: faster, and UTF-8 as it is rather than ``\\u`` escapes."""
        return orjson.dumps(data)

    async def get_context(self, request: Request, response: Any) -> RequestContext:  # type: ignore[override]
        principal = request.user if isinstance(request.user, Principal) else ANONYMOUS
        headers = request.headers
        strict = principal.strict or headers.get(STRICT_HEADER) == "1"
        do_not_track = headers.get("dnt") == "1" or headers.get("sec-gpc") == "1"
        # one id per request: the request line's, when the observer gave one
        request_id = current_request_id(request) or request_id_from(headers.get(REQUEST_ID_HEADER))
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


def build_services(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    policy: Policy | None = None,
    revocations: RevocationChecker | None = None,
    keyring: Keyring | None = None,
    audit_sink: AuditSink | None = None,
) -> AppServices:
    """Build every dependency once; tests pass their own engine, policy, revocations,
    data keyring or audit sink."""
    check_origins(settings.cors_allowed_origins)  # refused at start, in one line
    vocabulary = load_purposes(settings.policy_dir)
    policy = policy or load_policy(settings.policy_dir, vocabulary)
    schema = build_schema(QueryLimits.from_settings(settings), production=settings.is_production)
    catalog = build_catalog(schema._schema, policy.vocabulary)
    describe_schema(schema._schema, catalog, policy.vocabulary)  # before anything prints it
    problems = lint_policy(catalog, policy)
    if problems:
        raise PolicyError("the policy is refused: " + "; ".join(problems))
    engine = engine or create_engine(settings.database_url, **engine_options(settings))
    signing_key = load_signing_key(settings)
    tokens = TokenService(signing_key, settings.token_issuer, settings.token_audience)
    keyring = keyring or load_keyring(settings)
    audit_sink = audit_sink or database_audit_sink(engine, load_audit_key(settings))
    unknown = ENCRYPTED_COORDINATES - catalog.classifications.keys()
    if unknown:
        raise SchemaMisdeclared(
            "encrypted fields missing from the schema: " + ", ".join(sorted(unknown))
        )
    return AppServices(
        settings=settings,
        engine=engine,
        policy=policy,
        tokens=tokens,
        catalog=catalog,
        plans=PlanCache(settings.plan_cache_size),
        masks=mask_resolver(pseudonym_key(signing_key)),
        relation_coordinates=frozenset(
            c for c, cl in catalog.classifications.items() if cl.relation
        ),
        sensitive_coordinates=frozenset(
            c
            for c, cl in catalog.classifications.items()
            if cl.level is Level.SENSITIVE and not cl.relation
        ),
        personal_coordinates=frozenset(
            c for c, cl in catalog.classifications.items() if cl.is_personal
        ),
        encrypted_coordinates=ENCRYPTED_COORDINATES,
        decrypt=keyring.decrypt,
        schema=schema,
        revocations=revocations or DatabaseRevocations(engine),
        keyring=keyring,
        audit=AuditWriter(audit_sink, capacity=settings.audit_queue_size),
        disclosure_enabled=settings.disclosure_enabled,
        compiled_path=settings.compiled_path,
        schema_views=schema_views(settings, schema.as_str(), catalog),
        rate_limiter=RateLimiter.from_url(
            settings.rate_limit_requests, settings.rate_limit_cost, settings.redis_url
        ),
    )


def schema_views(settings: Settings, full_sdl: str, catalog: Catalog) -> SchemaViews | None:
    """Each principal's view of the schema (``FIELDGATE_SCHEMA_PER_PRINCIPAL``); staff see
    the whole schema only in development with ``FIELDGATE_STAFF_FULL_SCHEMA``."""
    if not settings.schema_per_principal:
        return None
    return SchemaViews(
        full_sdl,
        catalog,
        staff_see_all=settings.staff_full_schema and not settings.is_production,
        maxsize=settings.schema_view_cache_size,
    )


def database_audit_sink(engine: AsyncEngine, key: AuditKey) -> DatabaseAuditSink:
    """The trail on an engine of its own: audit writes neither wait for request connections
    nor take them. Without a pool, a connection lives for one batch, and nothing is held
    between batches."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return DatabaseAuditSink(engine, key)  # a memory database exists in one engine only
    own = create_engine(url.render_as_string(hide_password=False), poolclass=NullPool)
    return DatabaseAuditSink(own, key, owns_engine=True)


async def record_policy_version(services: Services) -> None:
    """Record a ``policy_change`` event when the policy differs from the last one recorded
    (only with the database trail; a failure is logged and does not stop the gateway)."""
    sink = services.audit.sink if services.audit is not None else None
    if not isinstance(sink, DatabaseAuditSink):
        return
    try:
        await sink.record_policy_version(services.policy.version)
    except Exception as exc:  # the database may be down at start: serve, and say so
        log.error("audit_policy_version_not_recorded", error_class=type(exc).__name__)


def document_gate(services: Services) -> DocumentGate:
    """Persisted queries always; partners held to trusted documents when the settings say."""
    engine = services.engine
    trusted = TrustedDocuments(engine) if services.settings.trusted_documents_enabled else None
    return DocumentGate(engine, trusted=trusted)


def attach_policy_control(services: AppServices) -> None:
    """The policy's watcher and administration, and the shadow policy of
    ``FIELDGATE_SHADOW_POLICY_DIR`` (checked like the live one)."""
    settings = services.settings
    store = DatabasePolicyStore(services.engine)
    in_database = settings.policy_source == "database"
    vocabulary = services.policy.vocabulary
    source = PolicySource(settings.policy_dir, vocabulary, store if in_database else None)
    watcher = PolicyWatcher(
        services,
        source,
        store,
        poll_seconds=settings.policy_poll_seconds,
        redis_url=settings.redis_url,
    )
    services.policy_watcher = watcher
    services.policy_admin = PolicyAdministration(services, source, store, watcher)
    if settings.shadow_policy_dir is not None:
        candidate = load_policy(settings.shadow_policy_dir, services.policy.vocabulary)
        check_policy(services.catalog, candidate)
        services.shadow = ShadowPolicy(candidate)


def create_app(settings: Settings | None = None, **overrides: Any) -> Starlette:
    """The ASGI application (``uvicorn --factory fieldgate.app:create_app``)."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    services = build_services(settings, **overrides)
    attach_policy_control(services)
    redact_access_log_queries()  # GET URLs carry operations, and arguments may be secrets
    assert services.revocations is not None
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
        principal = request.user if isinstance(request.user, Principal) else ANONYMOUS
        views = services.schema_views
        if views is None:
            return PlainTextResponse(services.schema.as_str())
        if settings.is_production and not principal.is_authenticated:
            return JSONResponse(
                {"errors": [{"message": "not found", "extensions": {"code": "NOT_FOUND"}}]},
                status_code=404,
            )
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
    assert limiter is not None
    limiter.set_hooks(
        on_fallback=_counter(services.metrics, "rate_limit_fallbacks"),
        on_refused=_counter(services.metrics, "rate_limited"),
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Everything built so far lives as long as the process: keep the collector off it.
        gc.collect()
        gc.freeze()
        if services.policy_watcher is not None:
            await services.policy_watcher.start()  # the database policy, before any request
        if services.audit is not None:
            await services.audit.start()
            await record_policy_version(services)
        yield
        if services.policy_watcher is not None:
            await services.policy_watcher.stop()
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


def _counter(metrics: object, name: str) -> Callable[[], None] | None:
    """``metrics.<name>.inc`` when the metrics have that counter."""
    counter = getattr(metrics, name, None)
    increment = getattr(counter, "inc", None)
    return None if increment is None else lambda: increment()
