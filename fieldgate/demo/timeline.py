"""The demo data's fixed clock: every timestamp is relative to one epoch, never to now."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

# Aware UTC: the models' datetime columns (SQLModel's UTCDateTime) refuse naive values.
EPOCH = datetime(2026, 6, 1, tzinfo=UTC)
EPOCH_DATE = EPOCH.date()
PLATFORM_LAUNCH = datetime(2019, 3, 1, tzinfo=UTC)


def moment_between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment in ``[start, end)`` to the second; ``start`` itself when the span is empty."""
    span = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(span)) if span > 0 else start


def day_between(rng: random.Random, start: date, end: date) -> date:
    """A day in ``[start, end]``."""
    return start + timedelta(days=rng.randint(0, (end - start).days))


def age_on(birth_date: date, day: date = EPOCH_DATE) -> int:
    """Completed years of age on ``day`` (the epoch by default)."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - int(before_birthday)


def birth_window(youngest: int, oldest: int) -> tuple[date, date]:
    """The first and last birth dates of someone aged ``youngest`` to ``oldest`` on the epoch."""
    latest = EPOCH_DATE.replace(year=EPOCH_DATE.year - youngest)
    earliest = EPOCH_DATE.replace(year=EPOCH_DATE.year - oldest - 1) + timedelta(days=1)
    return earliest, latest
