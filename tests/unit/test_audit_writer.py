"""The audit writer: bounded queue, batches, retries with backoff, health, flush and close."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from fieldgate.audit.events import Actor, AuditEvent, AuditKind
from fieldgate.audit.request import must_fail_closed
from fieldgate.audit.writer import AuditWriter
from tests.fakes import InMemoryAuditSink

WHEN = datetime(2024, 5, 1, tzinfo=UTC)


def event(kind: AuditKind = AuditKind.DENIAL, n: int = 0) -> AuditEvent:
    actor = Actor(kind="staff", id=1, roles=("support_agent",))
    return AuditEvent(
        at=WHEN,
        kind=kind,
        principal_kind=actor.kind,
        principal_id=actor.id,
        principal_roles=actor.roles,
        outcome="FULL" if kind is AuditKind.DISCLOSURE else "DENIED",
        coordinate=f"User.f{n}",
        subjects=(n,),
    )


class FlakySink(InMemoryAuditSink):
    """Fails ``failures`` times, then stores; remembers each batch it was handed."""

    def __init__(self, failures: int = 0) -> None:
        super().__init__()
        self.failures = failures
        self.batches: list[int] = []

    async def append(self, events: Sequence[AuditEvent]) -> None:
        self.batches.append(len(events))
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("down")
        await super().append(events)


class BlockedSink(InMemoryAuditSink):
    """Waits until released: a slow database."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def append(self, events: Sequence[AuditEvent]) -> None:
        await self.release.wait()
        await super().append(events)


async def test_events_are_stored_in_order_in_batches() -> None:
    sink = FlakySink()
    writer = AuditWriter(sink, batch_size=4, interval=0.05)
    events = [event(n=i) for i in range(10)]
    assert writer.submit(events)
    await asyncio.wait_for(writer.flush(), 5)
    assert sink.events == events
    assert sink.batches == [4, 4, 2]
    assert writer.written == 10 and writer.dropped == 0
    await writer.close()


async def test_a_small_batch_waits_at_most_the_interval() -> None:
    sink = FlakySink()
    writer = AuditWriter(sink, batch_size=500, interval=0.05)
    writer.submit([event()])
    await asyncio.sleep(0.3)
    assert len(sink.events) == 1  # stored without flush or close
    await writer.close()


async def test_a_failing_sink_is_retried_with_backoff_and_marks_the_writer_unhealthy() -> None:
    sink = FlakySink(failures=3)
    writer = AuditWriter(sink, interval=0.01, first_retry=0.02, last_retry=0.05)
    writer.submit([event(n=1), event(n=2)])
    await asyncio.sleep(0.03)
    assert not writer.healthy
    assert writer.submit([event(n=3)])  # the queue still takes events while the sink is down
    await asyncio.wait_for(writer.flush(), 5)
    assert writer.healthy
    assert [e.coordinate for e in sink.events] == ["User.f1", "User.f2", "User.f3"]
    assert writer.failures == 3
    await writer.close()


async def test_submit_is_all_or_nothing_and_a_full_queue_is_unhealthy() -> None:
    sink = BlockedSink()
    writer = AuditWriter(sink, capacity=3, batch_size=1, interval=0.01)
    assert writer.submit([event(n=0)])
    await asyncio.sleep(0.05)  # the task holds event 0, waiting on the sink
    assert writer.submit([event(n=1), event(n=2)])
    assert not writer.submit([event(n=3), event(n=4)])  # room for one only: none is taken
    assert writer.dropped == 2
    assert writer.submit([event(n=3)])
    assert not writer.healthy  # full
    sink.release.set()
    await asyncio.wait_for(writer.flush(), 5)
    assert [e.subjects for e in sink.events] == [(0,), (1,), (2,), (3,)]
    assert writer.healthy
    await writer.close()


async def test_close_stores_everything_accepted_and_refuses_more() -> None:
    sink = FlakySink()
    writer = AuditWriter(sink, batch_size=7, interval=10.0)
    await writer.start()
    writer.submit([event(n=i) for i in range(20)])
    await writer.close()
    assert len(sink.events) == 20
    assert not writer.submit([event()])
    assert not writer.healthy


async def test_close_gives_up_on_a_dead_sink_after_the_grace_period() -> None:
    sink = FlakySink(failures=10_000)
    writer = AuditWriter(sink, interval=0.01, first_retry=0.01, last_retry=0.01, shutdown_grace=0.2)
    writer.submit([event(n=i) for i in range(3)])
    await writer.close()
    assert sink.events == []
    assert writer.dropped == 3


def test_submit_outside_a_loop_queues_until_started() -> None:
    sink = FlakySink()
    writer = AuditWriter(sink, interval=0.01)
    assert writer.submit([event()])  # no loop: nothing started yet

    async def later() -> None:
        await writer.start()
        await asyncio.wait_for(writer.flush(), 5)
        await writer.close()

    asyncio.run(later())
    assert len(sink.events) == 1


class Queue:
    def __init__(self, healthy: bool, accepts: bool) -> None:
        self._healthy, self.accepts = healthy, accepts
        self.submitted: list[AuditEvent] = []

    @property
    def healthy(self) -> bool:
        return self._healthy

    def submit(self, events: Sequence[AuditEvent]) -> bool:
        if self.accepts:
            self.submitted.extend(events)
        return self.accepts


@pytest.mark.parametrize(
    ("healthy", "accepts", "withheld"),
    [(True, True, False), (False, True, True), (True, False, True), (False, False, True)],
)
def test_sensitive_full_disclosure_needs_a_healthy_trail(
    healthy: bool, accepts: bool, withheld: bool
) -> None:
    queue = Queue(healthy, accepts)
    events = [event(AuditKind.DISCLOSURE), event(AuditKind.DENIAL)]
    assert must_fail_closed(events, queue) is withheld
    assert must_fail_closed(events, None) is True  # auditing on and no writer at all


@pytest.mark.parametrize(("healthy", "accepts"), [(True, True), (False, False), (True, False)])
def test_denials_alone_never_withhold_a_response(healthy: bool, accepts: bool) -> None:
    queue = Queue(healthy, accepts)
    assert must_fail_closed([event(AuditKind.DENIAL)], queue) is False
    assert len(queue.submitted) == (1 if accepts else 0)
    assert must_fail_closed([], queue) is False
