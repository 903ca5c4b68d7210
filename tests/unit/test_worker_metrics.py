"""What lets several workers count as one server: the metrics folder, counts copied in by
what they grew, and the refusal of workers that would each keep their own rate limits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fieldgate.cli.serve import unshared_limits
from fieldgate.observability.metrics import MULTIPROCESS_DIR, Metrics, worker_metrics_folder
from fieldgate.settings import Settings


def test_one_worker_keeps_its_metrics_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    with worker_metrics_folder(1):
        assert MULTIPROCESS_DIR not in os.environ


def test_workers_get_a_folder_of_their_own_removed_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROCESS_DIR, raising=False)
    with worker_metrics_folder(2):
        folder = Path(os.environ[MULTIPROCESS_DIR])
        assert folder.is_dir()
    assert not folder.exists()
    assert MULTIPROCESS_DIR not in os.environ


def test_a_given_folder_is_emptied_at_start_and_kept(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "counter_7.db").write_bytes(b"an earlier run")
    (tmp_path / "notes.txt").write_text("not ours")
    monkeypatch.setenv(MULTIPROCESS_DIR, str(tmp_path))
    with worker_metrics_folder(2):
        assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert tmp_path.is_dir()


def test_counts_kept_elsewhere_are_copied_in_by_what_they_grew() -> None:
    metrics = Metrics()
    hits = [3]
    metrics.watch(plan_counts=lambda: (hits[0], 0), audit_depth=lambda: 2)
    metrics.count_request("query", 200, 0.01)
    hits[0] = 5
    metrics.refresh()
    hits[0] = 1  # the cache was rebuilt: it counts from 0 again
    metrics.refresh()
    assert metrics.registry.get_sample_value("fieldgate_plan_cache_hits_total") == 6
    assert metrics.registry.get_sample_value("fieldgate_audit_queue_depth") == 2


def test_workers_without_redis_would_each_keep_their_own_limits(tmp_path: Path) -> None:
    settings = Settings(key_dir=tmp_path)
    refusal = unshared_limits(settings)
    assert refusal is not None and "--allow-per-worker-limits" in refusal
    assert "\n" not in refusal
    assert unshared_limits(settings.model_copy(update={"redis_url": "redis://h/1"})) is None
    no_limits = settings.model_copy(update={"rate_limit_requests": 0, "rate_limit_cost": 0})
    assert unshared_limits(no_limits) is None
