"""``fieldgate serve``: the gateway over HTTP."""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

import typer

from fieldgate.cli.output import fail
from fieldgate.settings import Settings


def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="worker processes (default: one per core in production, else 1)"),
    ] = None,
    allow_per_worker_limits: Annotated[
        bool,
        typer.Option(
            envvar="FIELDGATE_ALLOW_PER_WORKER_LIMITS",
            help="without Redis, let each worker keep its own rate limits",
        ),
    ] = False,
) -> None:
    """Serve the gateway over HTTP; refuses to start on a policy the lint rejects.

    uvicorn with uvloop and httptools, one worker per core: the fastest setup measured
    (README, "Benchmarks": granian did no better, asyncio with h11 worse, more workers than
    cores no better). The workers count as one server: their metrics are merged (see
    :func:`worker_metrics_folder`) and their rate limits are shared through Redis."""
    import uvicorn

    from fieldgate.app import build_services
    from fieldgate.errors import ConfigurationError, PolicyError, SchemaMisdeclared
    from fieldgate.observability.logging import configure_logging
    from fieldgate.observability.metrics import worker_metrics_folder

    settings = Settings()
    processes = worker_count(workers, settings)
    if processes > 1 and not allow_per_worker_limits and (refusal := unshared_limits(settings)):
        fail(f"{processes} workers {refusal}", 2)
    configure_logging(settings.log_level)  # uvicorn's own lines are JSON too
    try:  # fail here, with the reason, rather than in every worker with a trace
        services = build_services(settings)
    except (PolicyError, ConfigurationError) as exc:
        fail(str(exc))
    except SchemaMisdeclared as exc:
        fail(f"the schema is misdeclared: {exc}")
    asyncio.run(services.engine.dispose())
    with worker_metrics_folder(processes):
        uvicorn.run(
            "fieldgate.app:create_app",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=processes,
            loop="uvloop",
            http="httptools",
            server_header=False,
            log_level=settings.log_level.lower(),
            log_config=None,  # keep the JSON logging configured above
            access_log=False,  # the gateway's own request line replaces it (no query strings)
            timeout_graceful_shutdown=settings.shutdown_grace_seconds,  # drain in-flight requests
        )


def unshared_limits(settings: Settings) -> str | None:
    """Why workers of this configuration would not share their rate limits (None: they
    would, through Redis, or there are no limits)."""
    if settings.redis_url or not (settings.rate_limit_requests or settings.rate_limit_cost):
        return None
    return (
        "would each keep their own rate limits in memory (no FIELDGATE_REDIS_URL): set it,"
        " run --workers 1, or pass --allow-per-worker-limits"
    )


def worker_count(option: int | None, settings: Settings) -> int:
    """``--workers`` if given; else one per core in production, one in development."""
    if option is not None:
        if option < 1:
            fail("--workers must be at least 1", 2)
        return option
    return (os.cpu_count() or 1) if settings.is_production else 1
