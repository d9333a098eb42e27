"""Idempotency-Key claims carry the token of the request holding them; outbox events the
version of the entity they describe

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: a catalogue change only. Claims made before it have none, and
    # are completed by no one but taken over once stale.
    op.add_column(
        "idempotency_keys", sa.Column("claim_token", sa.Uuid(), nullable=True), schema="coupons"
    )
    # The entity's version that the change made, where the entity keeps one.
    op.add_column(
        "outbox", sa.Column("entity_version", sa.BigInteger(), nullable=True), schema="coupons"
    )
    # A constant default: the catalogue records it, no row is rewritten (PostgreSQL 11+).
    op.add_column(
        "coupons",
        sa.Column("version", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        schema="coupons",
    )


def downgrade() -> None:
    op.drop_column("coupons", "version", schema="coupons")
    op.drop_column("outbox", "entity_version", schema="coupons")
    op.drop_column("idempotency_keys", "claim_token", schema="coupons")
