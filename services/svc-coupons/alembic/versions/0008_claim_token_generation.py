"""Gift claim tokens are derived from the transfer and a generation, which a rotation bumps

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 18:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A constant default: PostgreSQL records it in the catalog, no table rewrite.
    op.add_column(
        "transfers",
        sa.Column("claim_token_generation", sa.Integer(), server_default="0", nullable=False),
        schema="coupons",
    )


def downgrade() -> None:
    op.drop_column("transfers", "claim_token_generation", schema="coupons")
