"""The composition root: ``create_app`` builds every service and the Starlette application."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from strawberry.asgi import GraphQL

from fieldgate.authz.authn import (
    DatabaseRevocations,
    RevocationChecker,
    TokenAuthBackend,
    authentication_error_response,
)
from fieldgate.authz.classification import Level
from fieldgate.authz.disclosure import MaskResolver
from fieldgate.authz.keys import SigningKey, load_signing_key
from fieldgate.authz.lint import lint_policy
from fieldgate.authz.masking import MaskFunction, MaskStrategy, mask_function
from fieldgate.authz.plans import PlanCache
from fieldgate.authz.policy import Policy, load_policy
from fieldgate.authz.principal import ANONYMOUS, Principal
from fieldgate.authz.purposes import load_purposes
from fieldgate.authz.tokens import TokenService
from fieldgate.db import create_engine
from fieldgate.errors import PolicyError
from fieldgate.resolvers.context import RequestContext, Services
from fieldgate.schema import build_schema
from fieldgate.schema.catalog import build_catalog
from fieldgate.settings import Settings

STRICT_HEADER = "fieldgate-strict"


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


class FieldgateGraphQL(GraphQL[RequestContext, None]):
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
        return RequestContext(self.services, principal, request, strict, do_not_track=do_not_track)


def build_services(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    policy: Policy | None = None,
    revocations: RevocationChecker | None = None,
) -> AppServices:
    """Build every dependency once; tests pass their own engine, policy or revocations."""
    vocabulary = load_purposes(settings.policy_dir)
    policy = policy or load_policy(settings.policy_dir, vocabulary)
    schema = build_schema()
    catalog = build_catalog(schema._schema, policy.vocabulary)
    problems = lint_policy(catalog, policy)
    if problems:
        raise PolicyError("the policy is refused: " + "; ".join(problems))
    engine = engine or create_engine(settings.database_url)
    signing_key = load_signing_key(settings)
    tokens = TokenService(signing_key, settings.token_issuer, settings.token_audience)
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
        schema=schema,
        revocations=revocations or DatabaseRevocations(engine),
    )


def create_app(settings: Settings | None = None, **overrides: Any) -> Starlette:
    """The ASGI application (``uvicorn --factory fieldgate.app:create_app``)."""
    settings = settings or Settings()
    services = build_services(settings, **overrides)
    assert services.revocations is not None
    graphql = FieldgateGraphQL(
        services,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        allow_queries_via_get=True,
    )

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks = {"policy": services.policy.version, "database": "ok"}
        try:
            async with services.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            checks["database"] = "unreachable"
            return JSONResponse({"status": "unavailable", "checks": checks}, status_code=503)
        return JSONResponse({"status": "ready", "checks": checks})

    async def schema_sdl(_: Request) -> Response:
        return PlainTextResponse(services.schema.as_str())

    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/graphql", graphql, methods=["GET", "POST"]),
    ]
    if not settings.is_production:
        routes.insert(2, Route("/graphql/schema.graphql", schema_sdl))

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        # Everything built so far lives as long as the process: keep the collector off it.
        gc.collect()
        gc.freeze()
        yield
        await services.engine.dispose()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                AuthenticationMiddleware,
                backend=TokenAuthBackend(services.tokens, services.revocations),
                on_error=authentication_error_response,
            )
        ],
        lifespan=lifespan,
    )
    app.state.services = services
    return app
