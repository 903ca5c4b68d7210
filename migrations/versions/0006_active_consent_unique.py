"""At most one active consent per user and purpose: a partial unique index.

Concurrent grants of one consent then end in one row and a ``CONFLICT``, on both
databases. Any duplicates already active are withdrawn first, keeping the oldest grant.

Revision ID: 0006_active_consent_unique
Revises: 0005_audit_subject_sets
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_active_consent_unique"
down_revision: str | Sequence[str] | None = "0005_audit_subject_sets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_consents_active_user_id_purpose"
ACTIVE = sa.text("withdrawn_at IS NULL")


def upgrade() -> None:
    op.execute(
        "UPDATE consents SET withdrawn_at = granted_at WHERE withdrawn_at IS NULL AND EXISTS ("
        " SELECT 1 FROM consents AS older WHERE older.user_id = consents.user_id"
        " AND older.purpose = consents.purpose AND older.withdrawn_at IS NULL"
        " AND older.id < consents.id)"
    )
    op.create_index(
        INDEX,
        "consents",
        ["user_id", "purpose"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="consents")
