"""The retention schedule: one period per kind of record, from the settings.

Each period runs from the moment a record stops being needed: a login, a device's last
use, a ticket's closing, a token's expiry, a consent's withdrawal, an account's closing,
an audit event. README, "Privacy operations", says why each default is what it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fieldgate.settings import Settings


@dataclass(frozen=True, slots=True)
class Schedule:
    """How long each kind of record is kept after it stops being needed."""

    login_events: timedelta
    devices: timedelta
    closed_tickets: timedelta
    expired_tokens: timedelta
    withdrawn_consents: timedelta
    closed_accounts: timedelta
    audit_events: timedelta

    @classmethod
    def of(cls, settings: Settings) -> Schedule:
        """The schedule configured by ``FIELDGATE_RETENTION_*_DAYS``."""
        return cls(
            login_events=timedelta(days=settings.retention_login_event_days),
            devices=timedelta(days=settings.retention_device_days),
            closed_tickets=timedelta(days=settings.retention_closed_ticket_days),
            expired_tokens=timedelta(days=settings.retention_expired_token_days),
            withdrawn_consents=timedelta(days=settings.retention_withdrawn_consent_days),
            closed_accounts=timedelta(days=settings.retention_closed_account_days),
            audit_events=timedelta(days=settings.retention_audit_days),
        )

    def cutoffs(self, now: datetime) -> Cutoffs:
        """Records that stopped being needed before these moments go at ``now``."""
        return Cutoffs(
            login_events=now - self.login_events,
            devices=now - self.devices,
            closed_tickets=now - self.closed_tickets,
            expired_tokens=now - self.expired_tokens,
            withdrawn_consents=now - self.withdrawn_consents,
            closed_accounts=now - self.closed_accounts,
            audit_events=now - self.audit_events,
        )


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Per kind, the moment before which a record is past its period."""

    login_events: datetime
    devices: datetime
    closed_tickets: datetime
    expired_tokens: datetime
    withdrawn_consents: datetime
    closed_accounts: datetime
    audit_events: datetime
