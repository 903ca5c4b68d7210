"""The operations endpoints: ``/readyz`` and ``/metrics``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fieldgate.infra.redis import redis_ping
from fieldgate.observability.metrics import CONTENT_TYPE
from fieldgate.observability.readiness import Ping, database_reachable, readiness
from fieldgate.resolvers.context import Services


def watch_services(services: Services) -> None:
    """Let the metrics copy in the plan cache's and the audit queue's counts."""
    plans, audit = services.plans, services.audit
    services.metrics.watch(
        plan_counts=lambda: (plans.hits, plans.misses),
        compiled_counts=lambda: (plans.compiled.runs, plans.compiled.fallbacks),
        audit_depth=(lambda: audit.pending) if audit is not None else None,
    )


def operations_routes(services: Services, redis: Ping | None = None) -> list[Route]:
    """``/readyz`` always; ``/metrics`` unless ``FIELDGATE_METRICS`` is off. ``redis``
    replaces the PING made from ``FIELDGATE_REDIS_URL`` (tests)."""
    settings = services.settings
    if redis is None and settings.redis_url:
        redis = redis_ping(settings.redis_url)
    metrics = services.metrics

    async def readyz(_: Request) -> Response:
        ready = await readiness(services.engine, services.policy.version, redis)
        metrics.database_up.set(1 if ready.body["checks"]["database"] == "ok" else 0)
        return JSONResponse(ready.body, status_code=ready.status_code)

    async def metrics_text(_: Request) -> Response:
        metrics.database_up.set(1 if await database_reachable(services.engine) else 0)
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    routes = [Route("/readyz", readyz)]
    if settings.metrics:
        watch_services(services)
        routes.append(Route("/metrics", metrics_text))
    return routes
