"""Idempotency-Key claims carry the token of the request holding them; outbox events the
version of the entity they describe

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: a catalogue change only. Claims made before it have none, and
    # are completed by no one but taken over once stale.
    op.add_column(
        "idempotency_keys", sa.Column("claim_token", sa.Uuid(), nullable=True), schema="merchants"
    )
    # The entity's version that the change made, where the entity keeps one.
    op.add_column(
        "outbox", sa.Column("entity_version", sa.BigInteger(), nullable=True), schema="merchants"
    )


def downgrade() -> None:
    op.drop_column("outbox", "entity_version", schema="merchants")
    op.drop_column("idempotency_keys", "claim_token", schema="merchants")
