"""Coupon ids drawn by the database when none is given: bulk codes are copied without one

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 08:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column(
        "coupons",
        "id",
        server_default=sa.text("gen_random_uuid()"),
        schema="coupons",
    )


def downgrade() -> None:
    op.alter_column("coupons", "id", server_default=None, schema="coupons")
