"""Outbox dead letters (the relay gives up on a poison event); indexes for retention

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 18:52:30.041016
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_idempotency_keys_created_at",
        "idempotency_keys",
        ["created_at"],
        unique=False,
        schema="merchants",
    )
    op.add_column(
        "outbox",
        sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=True),
        schema="merchants",
    )
    op.create_index(
        "ix_outbox_dead_lettered",
        "outbox",
        ["dead_lettered_at"],
        unique=False,
        schema="merchants",
        postgresql_where=sa.text("dead_lettered_at IS NOT NULL"),
    )
    op.create_index(
        "ix_outbox_delivered_at",
        "outbox",
        ["delivered_at"],
        unique=False,
        schema="merchants",
        postgresql_where=sa.text("delivered_at IS NOT NULL"),
    )
    op.create_index(
        "ix_processed_events_processed_at",
        "processed_events",
        ["processed_at"],
        unique=False,
        schema="merchants",
    )

    # The sweep's index leaves dead-lettered events out, as the sweep does.
    op.drop_index("ix_outbox_undelivered", table_name="outbox", schema="merchants")
    op.create_index(
        "ix_outbox_undelivered",
        "outbox",
        ["occurred_at"],
        unique=False,
        schema="merchants",
        postgresql_where=sa.text("delivered_at IS NULL AND dead_lettered_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_undelivered", table_name="outbox", schema="merchants")
    op.create_index(
        "ix_outbox_undelivered",
        "outbox",
        ["occurred_at"],
        unique=False,
        schema="merchants",
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.drop_index(
        "ix_processed_events_processed_at", table_name="processed_events", schema="merchants"
    )
    op.drop_index(
        "ix_outbox_delivered_at",
        table_name="outbox",
        schema="merchants",
        postgresql_where=sa.text("delivered_at IS NOT NULL"),
    )
    op.drop_index(
        "ix_outbox_dead_lettered",
        table_name="outbox",
        schema="merchants",
        postgresql_where=sa.text("dead_lettered_at IS NOT NULL"),
    )
    op.drop_column("outbox", "dead_lettered_at", schema="merchants")
    op.drop_index(
        "ix_idempotency_keys_created_at", table_name="idempotency_keys", schema="merchants"
    )
