"""Prometheus metrics: one registry per application, built in ``create_app``.

Counters that other parts increment (rate limiting, policy reloads) live on
:class:`Metrics`, which ``Services.metrics`` carries. Values that already exist elsewhere
(plan cache counters, the audit queue's depth) are copied in after every request and at
scrape time. No metric carries a value, an identifier of a person, or a token: labels are
roles, purposes and outcomes.

Under ``fieldgate serve --workers N`` every worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode, chosen when that
variable is set before the client is imported) and a scrape of any worker reads them all.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Request durations: a cached plan answers in milliseconds, a cold one in tens of them.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own variable


class Metrics:
    """The gateway's metrics and their registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "fieldgate_requests",
            "HTTP requests by GraphQL operation type and status.",
            ["operation_type", "status"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "fieldgate_request_seconds", "HTTP request duration.", buckets=BUCKETS, registry=r
        )
        self.disclosures = Counter(
            "fieldgate_disclosures",
            "Field selections by disclosure outcome (per coordinate and outcome, not per value).",
            ["outcome", "role", "purpose"],
            registry=r,
        )
        self.rate_limited = Counter(
            "fieldgate_rate_limited", "Requests refused by a rate limit.", registry=r
        )
        self.policy_reload_failures = Counter(
            "fieldgate_policy_reload_failures", "Policy reloads that were refused.", registry=r
        )
        self.database_up = Gauge(
            "fieldgate_database_up",
            "1 when the last database check succeeded.",
            registry=r,
            multiprocess_mode="mostrecent",  # the newest check of any worker
        )
        self.plan_cache_hits = Counter(
            "fieldgate_plan_cache_hits", "Operations whose plan came from the cache.", registry=r
        )
        self.plan_cache_misses = Counter(
            "fieldgate_plan_cache_misses", "Operations whose plan was compiled.", registry=r
        )
        self.compiled_runs = Counter(
            "fieldgate_compiled_runs", "Queries answered on the compiled path.", registry=r
        )
        self.compiled_fallbacks = Counter(
            "fieldgate_compiled_fallbacks",
            "Queries the compiled path handed back to the general executor.",
            registry=r,
        )
        self.audit_queue_depth = Gauge(
            "fieldgate_audit_queue_depth",
            "Audit events accepted and not yet stored.",
            registry=r,
            multiprocess_mode="livesum",  # every running worker's queue
        )
        self._plan_counts: Callable[[], tuple[int, int]] | None = None
        self._compiled_counts: Callable[[], tuple[int, int]] | None = None
        self._audit_depth: Callable[[], int] | None = None
        self._copied = [0, 0, 0, 0]  # the four counts as last copied in

    def watch(
        self,
        *,
        plan_counts: Callable[[], tuple[int, int]] | None = None,
        audit_depth: Callable[[], int] | None = None,
        compiled_counts: Callable[[], tuple[int, int]] | None = None,
    ) -> None:
        """Copy the plan cache's and the compiled path's counters and the audit queue's
        depth in after every request and at scrape time."""
        self._plan_counts, self._compiled_counts = plan_counts, compiled_counts
        self._audit_depth = audit_depth
        self.refresh()

    def refresh(self) -> None:
        """Copy in the values kept elsewhere (counters by what they grew since the last
        copy, so that they add up across workers)."""
        hits, misses = self._plan_counts() if self._plan_counts is not None else (0, 0)
        runs, fallbacks = self._compiled_counts() if self._compiled_counts is not None else (0, 0)
        now = (hits, misses, runs, fallbacks)
        counters = (
            self.plan_cache_hits,
            self.plan_cache_misses,
            self.compiled_runs,
            self.compiled_fallbacks,
        )
        for index, (counter, value) in enumerate(zip(counters, now, strict=True)):
            copied = self._copied[index]
            grown = value - copied if value >= copied else value  # a reset source starts at 0
            if grown:
                counter.inc(grown)
            self._copied[index] = value
        self.audit_queue_depth.set(self._audit_depth() if self._audit_depth is not None else 0)

    def count_request(self, operation_type: str, status: int, seconds: float) -> None:
        """One HTTP request."""
        self.requests.labels(operation_type, str(status)).inc()
        self.request_seconds.observe(seconds)
        self.refresh()

    def count_disclosures(
        self, outcomes: Iterable[tuple[str, str]], roles: Iterable[str], purpose: str | None
    ) -> None:
        """One increment per ``(coordinate, outcome)`` pair of an operation."""
        role = role_label(roles)
        for _coordinate, outcome in outcomes:
            self.disclosures.labels(outcome, role, purpose or "none").inc()

    def render(self) -> bytes:
        """The exposition text: this registry's, or every worker's in multiprocess mode."""
        self.refresh()
        if not multiprocess():
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        return generate_latest(merged)


def multiprocess() -> bool:
    """Whether the metrics of this process are kept in the multiprocess files."""
    return bool(os.environ.get(MULTIPROCESS_DIR))


def role_label(roles: Iterable[str]) -> str:
    """Roles as one label value: sorted, ``+``-joined (roles are a fixed vocabulary)."""
    joined = "+".join(sorted(roles))
    return joined or "none"


def metric_names(metrics: Metrics) -> Iterator[str]:
    """Every sample name the registry exposes now (for tests and docs)."""
    for family in metrics.registry.collect():
        for sample in family.samples:
            yield sample.name


@contextlib.contextmanager
def worker_metrics_folder(workers: int) -> Iterator[None]:
    """For more than one worker, the folder their metrics are kept in, for the workers'
    lifetime: ``PROMETHEUS_MULTIPROC_DIR`` when set (emptied first: counts of an earlier
    run would add up), else a new one, removed at the end. Set before the workers start,
    so that they import prometheus-client in multiprocess mode."""
    if workers <= 1:
        yield
        return
    given = os.environ.get(MULTIPROCESS_DIR)
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="fieldgate-metrics-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_DIR] = str(folder)
    try:
        yield
    finally:
        if not given:
            shutil.rmtree(folder, ignore_errors=True)
            del os.environ[MULTIPROCESS_DIR]
