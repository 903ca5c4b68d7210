"""Audit trail tables, and the blind index of users' ID numbers.

Revision ID: 0002_audit_and_blind_index
Revises: 0001_initial
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_audit_and_blind_index"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("principal_kind", sa.String(length=16), nullable=False),
        sa.Column("principal_id", sa.Integer(), nullable=True),
        sa.Column("principal_roles", sa.String(length=255), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("purpose", sa.String(length=32), nullable=True),
        sa.Column("operation_name", sa.String(length=128), nullable=True),
        sa.Column("document_hash", sa.String(length=64), nullable=True),
        sa.Column("coordinate", sa.String(length=128), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("subjects", sa.String(), nullable=False),
        sa.Column("subject_count", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.String(length=32), nullable=True),
        sa.Column("detail", sa.String(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("prev_link", sa.String(length=64), nullable=False),
        sa.Column("link", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_events")),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"], unique=False)
    op.create_index(op.f("ix_audit_events_kind"), "audit_events", ["kind"], unique=False)

    op.create_table(
        "audit_subjects",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["seq"], ["audit_events.seq"], name=op.f("fk_audit_subjects_seq_audit_events")
        ),
        sa.PrimaryKeyConstraint("seq", "user_id", name=op.f("pk_audit_subjects")),
    )
    op.create_index(
        op.f("ix_audit_subjects_user_id"), "audit_subjects", ["user_id"], unique=False
    )

    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("id_number_index", sa.String(length=64), nullable=True))
        batch.create_index(op.f("ix_users_id_number_index"), ["id_number_index"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_index(op.f("ix_users_id_number_index"))
        batch.drop_column("id_number_index")
    op.drop_index(op.f("ix_audit_subjects_user_id"), table_name="audit_subjects")
    op.drop_table("audit_subjects")
    op.drop_index(op.f("ix_audit_events_kind"), table_name="audit_events")
    op.drop_index(op.f("ix_audit_events_at"), table_name="audit_events")
    op.drop_table("audit_events")
