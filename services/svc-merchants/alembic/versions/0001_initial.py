"""Merchants and their outlets; the outbox, idempotency keys and processed events.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 05:12:45.454650
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("caller", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("response_media_type", sa.String(length=100), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("caller", "key", name=op.f("pk_idempotency_keys")),
        schema="merchants",
    )
    op.create_table(
        "merchants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("owner_user_id", sa.Uuid(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=50), nullable=True),
        sa.Column("suspension_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'verified', 'suspended')", name=op.f("ck_merchants_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchants")),
        schema="merchants",
    )
    op.create_index(
        "ix_merchants_owner_user_id_created_at_id",
        "merchants",
        ["owner_user_id", "created_at", "id"],
        unique=False,
        schema="merchants",
    )
    op.create_index(
        "ix_merchants_status_created_at_id",
        "merchants",
        ["status", "created_at", "id"],
        unique=False,
        schema="merchants",
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("entity_type", sa.String(length=50), nullable=False),
        sa.Column("entity_id", sa.String(length=100), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        schema="merchants",
    )
    op.create_index(
        "ix_outbox_undelivered",
        "outbox",
        ["occurred_at"],
        unique=False,
        schema="merchants",
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_events")),
        schema="merchants",
    )
    op.create_table(
        "outlets",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=300), nullable=False),
        sa.Column("latitude", sa.Double(), nullable=True),
        sa.Column("longitude", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(latitude IS NULL) = (longitude IS NULL) AND (latitude IS NULL OR latitude BETWEEN -90 AND 90) AND (longitude IS NULL OR longitude BETWEEN -180 AND 180)",
            name=op.f("ck_outlets_position"),
        ),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.merchants.id"],
            name=op.f("fk_outlets_merchant_id_merchants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outlets")),
        schema="merchants",
    )
    op.create_index(
        "ix_outlets_merchant_id_created_at_id",
        "outlets",
        ["merchant_id", "created_at", "id"],
        unique=False,
        schema="merchants",
    )


def downgrade() -> None:
    op.drop_index("ix_outlets_merchant_id_created_at_id", table_name="outlets", schema="merchants")
    op.drop_table("outlets", schema="merchants")
    op.drop_table("processed_events", schema="merchants")
    op.drop_index(
        "ix_outbox_undelivered",
        table_name="outbox",
        schema="merchants",
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.drop_table("outbox", schema="merchants")
    op.drop_index("ix_merchants_status_created_at_id", table_name="merchants", schema="merchants")
    op.drop_index(
        "ix_merchants_owner_user_id_created_at_id", table_name="merchants", schema="merchants"
    )
    op.drop_table("merchants", schema="merchants")
    op.drop_table("idempotency_keys", schema="merchants")
