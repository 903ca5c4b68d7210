"""Events of one batch naming the same data subjects share their audit_subjects rows.

A page's denials all name the page's subjects: a 100-row page with 13 denied fields wrote
1,300 index rows, now 100. ``subjects_seq`` is the seq holding an event's rows; existing
events hold their own.

Revision ID: 0005_audit_subject_sets
Revises: 0004_scope_page_indexes
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_audit_subject_sets"
down_revision: str | Sequence[str] | None = "0004_scope_page_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("subjects_seq", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_audit_events_subjects_seq"), ["subjects_seq"])
    op.execute("UPDATE audit_events SET subjects_seq = seq")


def downgrade() -> None:
    # give every event its own rows back before the column goes
    op.execute(
        "INSERT INTO audit_subjects (seq, user_id) "
        "SELECT e.seq, s.user_id FROM audit_events e "
        "JOIN audit_subjects s ON s.seq = e.subjects_seq WHERE e.subjects_seq <> e.seq"
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_index(batch.f("ix_audit_events_subjects_seq"))
        batch.drop_column("subjects_seq")
