"""The audit trail: one row per audited event, chained by HMAC links; never a value."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class AuditEvent(SQLModel, table=True):
    """An audited event. ``link`` = HMAC-SHA256(key, ``prev_link`` + canonical content).

    ``seq`` is contiguous from 1, so a deleted event leaves a gap that verification names.
    """

    __tablename__ = "audit_events"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: datetime = Field(index=True)
    kind: str = Field(max_length=32, index=True)
    request_id: str | None = Field(default=None, max_length=64)
    principal_kind: str = Field(max_length=16)
    principal_id: int | None = None
    principal_roles: str = Field(default="", max_length=255)
    partner_id: int | None = None
    purpose: str | None = Field(default=None, max_length=32)
    operation_name: str | None = Field(default=None, max_length=128)
    document_hash: str | None = Field(default=None, max_length=64)
    coordinate: str | None = Field(default=None, max_length=128)
    outcome: str = Field(max_length=32)
    reason: str | None = Field(default=None, max_length=64)
    subjects: str = Field(default="", description="space-separated user ids")
    subject_count: int = 0
    policy_version: str | None = Field(default=None, max_length=32)
    detail: str = Field(default="{}", description="JSON object of non-value facts")
    key_id: str = Field(max_length=32)
    prev_link: str = Field(max_length=64)
    link: str = Field(max_length=64)
    # The seq whose audit_subjects rows list this event's subjects: its own, or that of an
    # earlier event of its batch with the same subjects (a page's denials all name the same
    # rows). An index, not evidence: verification compares the rows with ``subjects``.
    subjects_seq: int | None = Field(default=None, index=True)


class AuditSubject(SQLModel, table=True):
    """Which events concern which data subject (for a user's access log)."""

    __tablename__ = "audit_subjects"

    seq: int = Field(
        primary_key=True, foreign_key="audit_events.seq", sa_column_kwargs={"autoincrement": False}
    )
    user_id: int = Field(primary_key=True, index=True, sa_column_kwargs={"autoincrement": False})


class AuditCheckpoint(SQLModel, table=True):
    """Where the kept part of a pruned trail begins: event ``seq``, whose ``prev_link`` is
    the link of the last pruned event. ``mac`` is HMAC-SHA256 with the audit key over the
    other columns, so only the key's holder can move the start of the trail."""

    __tablename__ = "audit_checkpoints"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(index=True)
    prev_link: str = Field(max_length=64)
    pruned_at: datetime
    key_id: str = Field(max_length=32)
    mac: str = Field(max_length=64)
