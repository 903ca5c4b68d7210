"""Rate limits: requests and query cost per minute, per token, per partner, per client IP.

Fixed one-minute windows. The counters live in memory, or in Redis when
``FIELDGATE_REDIS_URL`` is set, so that every instance shares them: one Lua script
increments every key of a request atomically, called by its SHA1 (``EVALSHA``; the script
itself is sent only when Redis does not know it yet). When Redis cannot answer, each
instance counts on its own until Redis is back; ``backend_status`` says so for ``/readyz`` and a
metrics counter, when the application has one, counts the fallbacks.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from fieldgate.authz.principal import Principal, PrincipalKind
from fieldgate.infra.redis import REDIS_FAILURES, redis_client, redis_failure

WINDOW_SECONDS = 60
RETRY_REDIS_AFTER = 5.0  # seconds without asking a Redis that failed
KEY_PREFIX = "fieldgate:rate"

# KEYS: the counters; ARGV: the amount for each, then the expiry in seconds.
_INCREMENT = """
local counts = {}
local ttl = tonumber(ARGV[#ARGV])
for i, key in ipairs(KEYS) do
  local amount = tonumber(ARGV[i])
  local count = redis.call('INCRBY', key, amount)
  if count == amount then redis.call('EXPIRE', key, ttl) end
  counts[i] = count
end
return counts
"""

log = structlog.get_logger("fieldgate.rate_limit")


class Counters(Protocol):
    """Adds amounts to named counters of one window and returns the new totals."""

    async def add(self, window: int, amounts: Sequence[tuple[str, int]]) -> list[int]: ...


class MemoryCounters:
    """This instance's counters; windows before the current one are dropped."""

    def __init__(self) -> None:
        self._window = -1
        self._counts: dict[str, int] = {}

    async def add(self, window: int, amounts: Sequence[tuple[str, int]]) -> list[int]:
        if window != self._window:
            self._window, self._counts = window, {}
        totals = []
        for key, amount in amounts:
            self._counts[key] = self._counts.get(key, 0) + amount
            totals.append(self._counts[key])
        return totals


class RedisCounters:
    """Counters shared by every instance through one Redis."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self._increment = client.register_script(_INCREMENT)  # NOSCRIPT: loaded again

    async def add(self, window: int, amounts: Sequence[tuple[str, int]]) -> list[int]:
        keys = [f"{KEY_PREFIX}:{window}:{key}" for key, _ in amounts]
        reply = await self._increment(
            keys, [*(amount for _, amount in amounts), WINDOW_SECONDS * 2]
        )
        if not isinstance(reply, list) or not all(isinstance(c, int) for c in reply):
            raise RedisError("the counters script sent an unexpected reply")
        return [c for c in reply if isinstance(c, int)]


@dataclass(frozen=True, slots=True)
class Exceeded:
    """A limit was passed: which one, and in how many seconds the window ends."""

    limit: str
    retry_after: int


def principal_keys(principal: Principal, client_host: str | None) -> tuple[str, ...]:
    """The keys a request counts against: its token, its partner, or the client IP."""
    if principal.kind is PrincipalKind.ANONYMOUS:
        return (f"ip:{client_host or 'unknown'}",)
    keys = [f"token:{principal.token_id or principal.identity}"]
    if principal.partner_id is not None:
        keys.append(f"partner:{principal.partner_id}")
    return tuple(keys)


class RateLimiter:
    """Charges requests and query cost against per-minute limits (0: no limit)."""

    def __init__(
        self,
        *,
        requests: int,
        cost: int,
        redis: Redis | None = None,
        clock: Callable[[], float] = time.time,
        on_fallback: Callable[[], None] | None = None,
    ) -> None:
        self.requests = requests
        self.cost = cost
        self._memory = MemoryCounters()
        self._redis = RedisCounters(redis) if redis is not None else None
        self._clock = clock
        self._on_fallback = on_fallback
        self._on_refused: Callable[[], None] | None = None
        self._redis_down_until = 0.0
        self._redis_failed = False

    @classmethod
    def from_url(cls, requests: int, cost: int, redis_url: str | None) -> RateLimiter:
        """In memory, or shared through ``redis_url`` (see :mod:`fieldgate.infra.redis`)."""
        client = redis_client(redis_url) if redis_url else None
        return cls(requests=requests, cost=cost, redis=client)

    def backend_status(self) -> str:
        """``memory`` (no Redis configured), ``redis`` (shared), or ``unavailable``
        (Redis configured and not answering: each instance counts on its own)."""
        if self._redis is None:
            return "memory"
        return "unavailable" if self._redis_failed else "redis"

    def set_hooks(
        self,
        *,
        on_fallback: Callable[[], None] | None = None,
        on_refused: Callable[[], None] | None = None,
    ) -> None:
        """``on_fallback``: a charge counted per instance because Redis failed;
        ``on_refused``: a request refused by a limit (metrics counters)."""
        self._on_fallback = on_fallback
        self._on_refused = on_refused

    async def charge_request(self, keys: Sequence[str]) -> Exceeded | None:
        """Count one request against each key; ``Exceeded`` when one passed the limit."""
        return await self._charge("requests", keys, 1, self.requests)

    async def charge_cost(self, keys: Sequence[str], cost: int) -> Exceeded | None:
        """Add an operation's estimated cost to each key's budget."""
        return await self._charge("cost", keys, cost, self.cost)

    async def close(self) -> None:
        """Close the Redis connection, if any."""
        if self._redis is not None:
            await self._redis.client.aclose()

    async def _charge(
        self, limit: str, keys: Sequence[str], amount: int, maximum: int
    ) -> Exceeded | None:
        if maximum <= 0 or not keys:
            return None
        now = self._clock()
        window = math.floor(now / WINDOW_SECONDS)
        amounts = [(f"{limit}:{key}", amount) for key in keys]
        totals = await self._add(now, window, amounts)
        if any(total > maximum for total in totals):
            retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
            if self._on_refused is not None:
                self._on_refused()
            return Exceeded(limit, retry_after)
        return None

    async def _add(self, now: float, window: int, amounts: list[tuple[str, int]]) -> list[int]:
        if self._redis is not None and now >= self._redis_down_until:
            try:
                totals = await self._redis.add(window, amounts)
            except REDIS_FAILURES as exc:  # its text may name the address or a key
                if not self._redis_failed:
                    log.warning("rate_limit_redis_unavailable", reason=redis_failure(exc))
                self._redis_failed = True
                self._redis_down_until = now + RETRY_REDIS_AFTER
            else:
                if self._redis_failed:
                    log.info("rate_limit_redis_back")
                self._redis_failed = False
                return totals
        if self._redis is not None and self._on_fallback is not None:
            self._on_fallback()
        return await self._memory.add(window, amounts)
