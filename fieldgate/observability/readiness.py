"""``/readyz``: is the database reachable, is the policy loaded, and is Redis there?

The database decides readiness; Redis does not (rate limits, revocations and policy
notifications fall back to local state), so an unreachable Redis reports ``degraded``.
Every check has a short timeout: a database that hangs makes the probe fail, not hang.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

CHECK_TIMEOUT = 2.0  # seconds: a probe answers well within a load balancer's own timeout
REDIS_TIMEOUT = 0.5

Ping = Callable[[], Awaitable[object]]  # a PING of Redis, made by the application


@dataclass(frozen=True, slots=True)
class Readiness:
    """The answer of ``/readyz``: its HTTP status and body."""

    status_code: int
    body: dict[str, Any]


async def database_reachable(engine: AsyncEngine, within: float = CHECK_TIMEOUT) -> bool:
    """Whether ``SELECT 1`` answers within ``within`` seconds."""
    try:
        async with asyncio.timeout(within), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:  # any failure is "unreachable"; its text is not ours to log
        return False
    return True


async def redis_reachable(ping: Ping, within: float = REDIS_TIMEOUT) -> bool:
    """Whether Redis answers a PING within ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            await ping()
    except Exception:
        return False
    return True


async def readiness(
    engine: AsyncEngine, policy_version: str | None, redis: Ping | None = None
) -> Readiness:
    """Run the checks: 503 ``unavailable`` without the database or a policy, 200 ``ready``,
    or 200 ``degraded`` when only Redis is missing."""
    database, cache = await asyncio.gather(
        database_reachable(engine),
        redis_reachable(redis) if redis is not None else _none(),
    )
    checks: dict[str, str] = {
        "database": "ok" if database else "unreachable",
        "policy": policy_version or "missing",
    }
    if cache is not None:
        checks["redis"] = "ok" if cache else "unreachable"
    if not database or not policy_version:
        return Readiness(503, {"status": "unavailable", "checks": checks})
    if cache is False:
        return Readiness(200, {"status": "degraded", "checks": checks})
    return Readiness(200, {"status": "ready", "checks": checks})


async def _none() -> None:
    return None
