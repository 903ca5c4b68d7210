"""Policy-change notifications over Redis pub/sub.

A notification only wakes the watchers early: the revision id in the database stays the
truth, and polling finds every change even when Redis is down.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from redis.asyncio import Redis

from fieldgate.infra.redis import REDIS_FAILURES, redis_client

POLICY_CHANNEL = "fieldgate:policy"


async def publish(client: Redis, message: str, channel: str = POLICY_CHANNEL) -> None:
    """Send ``message`` to every subscriber of ``channel``."""
    await client.publish(channel, message)


async def announce(url: str, message: str, channel: str = POLICY_CHANNEL) -> bool:
    """Publish once through a client of its own (a command without a gateway); False when
    Redis did not take the message."""
    try:
        client = redis_client(url)
    except ValueError:
        return False
    try:
        await publish(client, message, channel)
    except REDIS_FAILURES:
        return False
    finally:
        await client.aclose()
    return True


async def subscribe(client: Redis, channel: str = POLICY_CHANNEL) -> AsyncIterator[bytes]:
    """Every message published on ``channel`` from now on, on a connection of its own;
    raises a Redis error when the connection drops."""
    async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
        await pubsub.subscribe(channel)
        async for message in pubsub.listen():
            if message["type"] == "message":
                payload = message["data"]
                yield payload if isinstance(payload, bytes) else b""
