"""Indexes for a row scope's page: the scope's column, then id.

Every page filters on one scope column (the buyer, the routed partner, the paying partner,
the ticket's owner or assignee) and pages by id; with the id in the same index a page is an
ordered index range instead of every matching row sorted.

Revision ID: 0004_scope_page_indexes
Revises: 0003_partner_documents
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_scope_page_indexes"
down_revision: str | Sequence[str] | None = "0003_partner_documents"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCOPES = (
    ("orders", "user_id"),
    ("orders", "logistics_partner_id"),
    ("orders", "payment_partner_id"),
    ("support_tickets", "user_id"),
    ("support_tickets", "assigned_staff_id"),
)


def upgrade() -> None:
    for table, column in SCOPES:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
        op.create_index(f"ix_{table}_{column}_id", table, [column, "id"])


def downgrade() -> None:
    for table, column in SCOPES:
        op.drop_index(f"ix_{table}_{column}_id", table_name=table)
        op.create_index(f"ix_{table}_{column}", table, [column])
