"""Outbox events back off on their own: when a failed event is next due

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 18:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: only the catalog changes. NULL is what the code before this
    # one meant for every row: due as soon as the sweep's delay has passed.
    op.add_column(
        "outbox",
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        schema="auth",
    )


def downgrade() -> None:
    op.drop_column("outbox", "next_attempt_at", schema="auth")
