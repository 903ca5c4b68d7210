"""The retention schedule from the settings: one period per kind, each one configurable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from fieldgate.retention.schedule import Schedule
from fieldgate.settings import Settings

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_the_defaults_are_the_documented_periods() -> None:
    schedule = Schedule.of(Settings())
    assert schedule.login_events == schedule.devices == timedelta(days=365)
    assert schedule.closed_tickets == timedelta(days=730)
    assert schedule.expired_tokens == timedelta(days=30)
    assert schedule.withdrawn_consents == schedule.audit_events == timedelta(days=1095)
    assert schedule.closed_accounts == timedelta(days=365)


def test_each_period_comes_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDGATE_RETENTION_LOGIN_EVENT_DAYS", "90")
    monkeypatch.setenv("FIELDGATE_RETENTION_AUDIT_DAYS", "2000")
    cutoffs = Schedule.of(Settings()).cutoffs(NOW)
    assert cutoffs.login_events == NOW - timedelta(days=90)
    assert cutoffs.audit_events == NOW - timedelta(days=2000)
    assert cutoffs.devices == NOW - timedelta(days=365)


def test_a_period_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDGATE_RETENTION_EXPIRED_TOKEN_DAYS", "0")
    with pytest.raises(ValidationError):
        Settings()
