"""Outbox events carry the correlation id of the request that caused them

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "outbox",
        sa.Column("correlation_id", sa.String(length=128), nullable=True),
        schema="merchants",
    )


def downgrade() -> None:
    op.drop_column("outbox", "correlation_id", schema="merchants")
