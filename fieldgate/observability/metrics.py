"""Prometheus metrics: one registry per application, built in ``create_app``.

Counters that other parts increment (rate limiting, policy reloads) live on
:class:`Metrics`, which ``Services.metrics`` carries. Values that already exist elsewhere
(plan cache counters, the audit queue's depth) are read at scrape time. No metric carries
a value, an identifier of a person, or a token: labels are roles, purposes and outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Request durations: a cached plan answers in milliseconds, a cold one in tens of them.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _ScrapeTime(Collector):
    """Reads counters kept elsewhere when Prometheus scrapes."""

    def __init__(
        self,
        plan_counts: Callable[[], tuple[int, int]] | None,
        audit_depth: Callable[[], int] | None,
        compiled_counts: Callable[[], tuple[int, int]] | None = None,
    ) -> None:
        self.plan_counts = plan_counts
        self.audit_depth = audit_depth
        self.compiled_counts = compiled_counts

    def collect(self) -> Iterable[Metric]:
        hits, misses = self.plan_counts() if self.plan_counts is not None else (0, 0)
        yield CounterMetricFamily(
            "fieldgate_plan_cache_hits", "Operations whose plan came from the cache.", hits
        )
        yield CounterMetricFamily(
            "fieldgate_plan_cache_misses", "Operations whose plan was compiled.", misses
        )
        runs, fallbacks = self.compiled_counts() if self.compiled_counts is not None else (0, 0)
        yield CounterMetricFamily(
            "fieldgate_compiled_runs", "Queries answered on the compiled path.", runs
        )
        yield CounterMetricFamily(
            "fieldgate_compiled_fallbacks",
            "Queries the compiled path handed back to the general executor.",
            fallbacks,
        )
        depth = self.audit_depth() if self.audit_depth is not None else 0
        yield GaugeMetricFamily(
            "fieldgate_audit_queue_depth", "Audit events accepted and not yet stored.", depth
        )


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
            "fieldgate_database_up", "1 when the last database check succeeded.", registry=r
        )
        self._scrape_time: _ScrapeTime | None = None

    def watch(
        self,
        *,
        plan_counts: Callable[[], tuple[int, int]] | None = None,
        audit_depth: Callable[[], int] | None = None,
        compiled_counts: Callable[[], tuple[int, int]] | None = None,
    ) -> None:
        """Read the plan cache's and the compiled path's counters and the audit queue's
        depth at scrape time."""
        if self._scrape_time is not None:
            self.registry.unregister(self._scrape_time)
        self._scrape_time = _ScrapeTime(plan_counts, audit_depth, compiled_counts)
        self.registry.register(self._scrape_time)

    def count_request(self, operation_type: str, status: int, seconds: float) -> None:
        """One HTTP request."""
        self.requests.labels(operation_type, str(status)).inc()
        self.request_seconds.observe(seconds)

    def count_disclosures(
        self, outcomes: Iterable[tuple[str, str]], roles: Iterable[str], purpose: str | None
    ) -> None:
        """One increment per ``(coordinate, outcome)`` pair of an operation."""
        role = role_label(roles)
        for _coordinate, outcome in outcomes:
            self.disclosures.labels(outcome, role, purpose or "none").inc()

    def render(self) -> bytes:
        """The exposition text."""
        return generate_latest(self.registry)


def role_label(roles: Iterable[str]) -> str:
    """Roles as one label value: sorted, ``+``-joined (roles are a fixed vocabulary)."""
    joined = "+".join(sorted(roles))
    return joined or "none"


def metric_names(metrics: Metrics) -> Iterator[str]:
    """Every sample name the registry exposes now (for tests and docs)."""
    for family in metrics.registry.collect():
        for sample in family.samples:
            yield sample.name
