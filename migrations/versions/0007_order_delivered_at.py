"""Orders record when they were delivered: a logistics partner sees a delivered order only
for the policy's days after delivery.

Orders completed before the column existed count as delivered when they were placed (the
earliest it can have been), so they leave a partner's reach no later than they should.

Revision ID: 0007_order_delivered_at
Revises: 0006_active_consent_unique
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_order_delivered_at"
down_revision: str | Sequence[str] | None = "0006_active_consent_unique"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "UPDATE orders SET delivered_at = created_at "
        "WHERE status = 'completed' AND logistics_partner_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("delivered_at")
