"""One real ``fieldgate serve --workers 2`` process: its two workers count as one server.

Every scrape of ``/metrics``, whichever worker answers it, counts the requests of both;
one rate limit (through Redis) holds across both; without Redis, ``serve`` refuses more
than one worker unless each may keep its own limits. Every request opens a connection of
its own, so that the kernel hands requests to both workers.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from fieldgate.audit.chain import load_audit_key
from fieldgate.crypto.keyring import load_keyring
from fieldgate.identity.signing_key import load_signing_key
from fieldgate.infra.redis import REDIS_FAILURES, redis_client
from fieldgate.settings import Settings
from tests.conftest import DatabaseFactory
from tests.fleet import Server, fresh_rate_window, run_cli, server_environment, start_server

pytestmark = pytest.mark.postgres

REDIS_URL = "redis://127.0.0.1:6379/9"  # apart from the databases other tests use
RATE_LIMIT = 4
COURSES = "{ courses(first: 2) { edges { node { title } } } }"
SEED = ["--users", "20", "--courses", "10", "--orders", "20", "--tickets", "10", "--seed", "3"]


class Workers:
    """The server, its environment, and the folder its workers keep their metrics in."""

    def __init__(self, server: Server, environment: dict[str, str], metrics: Path) -> None:
        self.server, self.environment, self.metrics = server, environment, metrics

    async def tokens(self, *subjects: str) -> list[str]:
        printed = await asyncio.gather(
            *(run_cli(self.environment, "token", "issue", "--sub", s) for s in subjects)
        )
        return [text.strip() for text in printed]

    async def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        """On a new connection (not kept alive), so that either worker may take it."""
        url = f"http://127.0.0.1:{self.server.port}{path}"
        async with httpx.AsyncClient(timeout=10) as client:
            return await client.request(method, url, **kwargs)  # type: ignore[arg-type]

    def per_worker(self, name: str, **labels: str) -> list[float]:
        """A counter's value in each worker's own file (which workers took requests)."""
        values = []
        for file in sorted(self.metrics.glob("counter_*.db")):
            total = 0.0
            for family in MultiProcessCollector.merge([str(file)], accumulate=False):
                for sample in family.samples:
                    if sample.name == name and labels.items() <= sample.labels.items():
                        total += sample.value
            values.append(total)
        return values


def scraped(text: str, name: str, **labels: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


@pytest.fixture(scope="module")
async def workers(
    database_factory: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Workers]:
    url = await database_factory("postgres")  # skips, saying why, without PostgreSQL
    client = redis_client(REDIS_URL)
    try:
        await client.flushdb()
    except REDIS_FAILURES:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379: the workers share limits in it")
    finally:
        await client.aclose()
    folder = tmp_path_factory.mktemp("workers")
    keys = Settings(database_url=url, key_dir=folder / "keys")
    load_signing_key(keys)
    load_keyring(keys)
    load_audit_key(keys)
    metrics = folder / "metrics"
    metrics.mkdir()
    (metrics / "counter_1.db").write_bytes(b"left by an earlier run")  # emptied at start
    environment = server_environment(
        {
            "FIELDGATE_DATABASE_URL": url,
            "FIELDGATE_KEY_DIR": str(keys.key_dir),
            "FIELDGATE_REDIS_URL": REDIS_URL,
            "FIELDGATE_RATE_LIMIT_REQUESTS": str(RATE_LIMIT),
            "FIELDGATE_SHUTDOWN_GRACE_SECONDS": "2",
            "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        }
    )
    await run_cli(environment, "db", "upgrade")
    await run_cli(environment, "db", "seed", "--demo", *SEED, "--no-progress")
    server = start_server("workers", environment, folder, "--workers", "2")
    try:
        await server.wait_ready()
        yield Workers(server, environment, metrics)
    finally:
        await server.stop()


async def test_every_scrape_counts_the_requests_of_both_workers(workers: Workers) -> None:
    count = 10
    tokens = await workers.tokens("alice", "bob", "support1")  # each under the limit of 4
    query = {"operation_type": "query", "status": "200"}
    before = scraped(
        (await workers.request("GET", "/metrics")).text, "fieldgate_requests_total", **query
    )
    await fresh_rate_window(5)
    answers = [  # one after the other: the worker that is idle takes the next
        await workers.request(
            "POST",
            "/graphql",
            json={"query": COURSES},
            headers={"authorization": f"Bearer {tokens[i % 3]}"},
        )
        for i in range(count)
    ]
    assert [a.status_code for a in answers] == [200] * count
    scrapes = [(await workers.request("GET", "/metrics")).text for _ in range(6)]
    totals = [scraped(t, "fieldgate_requests_total", **query) - before for t in scrapes]
    assert totals == [count] * len(scrapes)
    per_worker = workers.per_worker("fieldgate_requests_total", **query)
    assert len([v for v in per_worker if v > 0]) == 2, per_worker  # both workers answered
    assert sum(per_worker) == before + count


async def test_one_rate_limit_holds_across_both_workers(workers: Workers) -> None:
    (token,) = await workers.tokens("support2")
    refused_before = sum(workers.per_worker("fieldgate_rate_limited_total"))
    answered_before = workers.per_worker("fieldgate_requests_total")
    await fresh_rate_window(5)
    answers = [
        await workers.request(
            "POST",
            "/graphql",
            json={"query": COURSES},
            headers={"authorization": f"Bearer {token}"},
        )
        for _ in range(2 * RATE_LIMIT)
    ]
    statuses = [a.status_code for a in answers]
    assert statuses == [200] * RATE_LIMIT + [429] * RATE_LIMIT  # 4 through, not 8
    assert sum(workers.per_worker("fieldgate_rate_limited_total")) == refused_before + RATE_LIMIT
    answered = workers.per_worker("fieldgate_requests_total")
    assert all(a > b for a, b in zip(answered, answered_before, strict=True)), answered


async def test_serve_refuses_workers_that_would_each_keep_their_own_limits(
    workers: Workers,
) -> None:
    environment = {**workers.environment, "FIELDGATE_REDIS_URL": ""}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "fieldgate.cli", "serve", "--workers", "2", "--port", "1",
        env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 2
    (line,) = (out + err).decode().strip().splitlines()
    assert "own rate limits" in line and "--allow-per-worker-limits" in line
