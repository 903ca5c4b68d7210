"""Off the hot path: a bounded queue of audit events drained into the sink in batches.

Requests only ``submit`` (no await, no I/O); one background task takes up to
``batch_size`` events, or what arrived within ``interval`` seconds, and appends them to the
sink, retrying with exponential backoff while the sink fails. ``healthy`` is False while the
sink is failing or the queue is full: requests that would disclose a SENSITIVE value in
FULL are then refused (fail closed, see ``audit.must_fail_closed``). ``close`` drains
everything that was accepted before it returns, so a clean shutdown loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import structlog

from fieldgate.audit.events import AuditEvent, AuditSink, ClosableSink

log = structlog.get_logger("fieldgate.audit")


class AuditWriter:
    """Batches events into an :class:`~fieldgate.audit.events.AuditSink`.

    The task starts with :meth:`start` (the application's lifespan) or, failing that, on the
    first :meth:`submit` made inside a running event loop.
    """

    def __init__(
        self,
        sink: AuditSink,
        *,
        capacity: int = 10_000,
        batch_size: int = 500,
        interval: float = 0.2,
        first_retry: float = 0.05,
        last_retry: float = 5.0,
        shutdown_grace: float = 10.0,
    ) -> None:
        if capacity < 1 or batch_size < 1:
            raise ValueError("capacity and batch_size must be positive")
        self.sink = sink
        self.capacity = capacity
        self.batch_size = batch_size
        self.interval = interval
        self.first_retry = first_retry
        self.last_retry = last_retry
        self.shutdown_grace = shutdown_grace
        self.written = 0
        self.dropped = 0
        self.failures = 0
        self._queue: asyncio.Queue[AuditEvent] = asyncio.Queue(maxsize=capacity)
        self._failing = False
        self._closed = False
        self._task: asyncio.Task[None] | None = None
        self._in_flight = 0

    # -- what requests see --------------------------------------------------------------
    @property
    def healthy(self) -> bool:
        """False while the sink is failing, the queue is full, or the writer is closed."""
        return not (self._failing or self._closed or self._queue.full())

    @property
    def pending(self) -> int:
        """Events accepted and not yet stored."""
        return self._queue.qsize()

    def submit(self, events: Sequence[AuditEvent]) -> bool:
        """Queue ``events`` whole, or none of them: False (and counted as dropped) when the
        queue has no room for all of them or the writer is closed."""
        if not events:
            return True
        if self._closed or self.capacity - self._queue.qsize() < len(events):
            self.dropped += len(events)
            log.warning("audit_events_dropped", count=len(events), queued=self._queue.qsize())
            return False
        for event in events:
            self._queue.put_nowait(event)
        self._ensure_running()
        return True

    async def record(self, events: Sequence[AuditEvent]) -> None:
        """``AuditRecorder``: submit best-effort (token issuance must not wait on the trail)."""
        self.submit(events)

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        """Start the draining task (idempotent)."""
        self._ensure_running()

    async def flush(self) -> None:
        """Wait until every event accepted so far is stored (bound it with
        ``asyncio.timeout``: while the sink fails, this waits)."""
        self._ensure_running()
        await self._queue.join()

    async def close(self) -> None:
        """Refuse new events, store every accepted one (waiting up to ``shutdown_grace``
        seconds for a failing sink), stop the task and close the sink. What could not be
        stored is counted as dropped and logged."""
        self._closed = True
        try:
            async with asyncio.timeout(self.shutdown_grace):
                await self.flush()
            stored = True
        except TimeoutError:
            stored = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if not stored:
            lost = self._queue.qsize() + self._in_flight
            self.dropped += lost
            log.error("audit_events_lost_on_shutdown", count=lost)
        if isinstance(self.sink, ClosableSink):
            await self.sink.close()

    # -- the draining task --------------------------------------------------------------
    def _ensure_running(self) -> None:
        if self._task is not None and not self._task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not in a loop: start() will be called from one
        if self._closed and self._queue.empty():
            return
        self._task = loop.create_task(self._run(), name="fieldgate-audit-writer")

    async def _run(self) -> None:
        while True:
            batch = await self._collect()
            self._in_flight = len(batch)
            await self._deliver(batch)
            self._in_flight = 0
            for _ in batch:
                self._queue.task_done()

    async def _collect(self) -> list[AuditEvent]:
        batch = [await self._queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.interval
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closed:
                break
            try:
                async with asyncio.timeout(remaining):
                    batch.append(await self._queue.get())
            except TimeoutError:
                break
        return batch

    async def _deliver(self, batch: list[AuditEvent]) -> None:
        delay = self.first_retry
        while True:
            try:
                await self.sink.append(batch)
            except Exception as exc:  # any failure of the sink: keep the batch and retry
                self.failures += 1
                if not self._failing:
                    log.error("audit_sink_failing", error_class=type(exc).__name__)
                self._failing = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.last_retry)
                continue
            if self._failing:
                log.info("audit_sink_recovered")
            self._failing = False
            self.written += len(batch)
            return
