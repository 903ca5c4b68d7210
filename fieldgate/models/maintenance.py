"""Leases of periodic maintenance passes: one instance of a fleet runs a pass at a time."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class MaintenanceLease(SQLModel, table=True):
    """``holder`` runs the pass ``name`` until it ends the lease, or until ``expires_at``
    (a pass that crashed leaves its lease to expire)."""

    __tablename__ = "maintenance_leases"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=64)
    expires_at: datetime
