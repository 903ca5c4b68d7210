"""Persisted and trusted documents, and the policy kept in the database.

Revision ID: 0003_partner_documents
Revises: 0002_audit_and_blind_index
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_partner_documents"
down_revision: str | Sequence[str] | None = "0002_audit_and_blind_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "persisted_documents",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("document", sa.String(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_persisted_documents")),
    )
    op.create_table(
        "partner_documents",
        sa.Column("partner_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_partner_documents_partner_id_partners")
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["persisted_documents.sha256"],
            name=op.f("fk_partner_documents_sha256_persisted_documents"),
        ),
        sa.PrimaryKeyConstraint("partner_id", "sha256", name=op.f("pk_partner_documents")),
    )
    op.create_table(
        "policy_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ptype", sa.String(length=8), nullable=False),
        *(sa.Column(f"v{i}", sa.String(length=255), nullable=False) for i in range(6)),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_rules")),
    )
    op.create_table(
        "policy_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_revisions")),
    )


def downgrade() -> None:
    op.drop_table("policy_revisions")
    op.drop_table("policy_rules")
    op.drop_table("partner_documents")
    op.drop_table("persisted_documents")
