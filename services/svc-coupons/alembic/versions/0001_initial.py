"""Campaigns, coupons and codes, per-customer claim counters, redemptions

Revision ID: 0001
Revises:
Create Date: 2026-11-26 05:15:30.510130
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
        "campaigns",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("discount_type", sa.String(length=20), nullable=False),
        sa.Column("discount_value", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("min_spend", sa.BigInteger(), nullable=True),
        sa.Column("total_quantity", sa.Integer(), nullable=True),
        sa.Column("per_customer_limit", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("outlet_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("transferable", sa.Boolean(), nullable=False),
        sa.Column("tradable", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("issued_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("redeemed_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "issued_count >= 0 AND redeemed_count >= 0",
            name=op.f("ck_campaigns_counts_not_negative"),
        ),
        sa.CheckConstraint(
            "total_quantity IS NULL OR issued_count <= total_quantity",
            name=op.f("ck_campaigns_within_quantity"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        schema="coupons",
    )
    op.create_index(
        "ix_campaigns_merchant_id_status_created_at_id",
        "campaigns",
        ["merchant_id", "status", "created_at", "id"],
        unique=False,
        schema="coupons",
    )
    op.create_index(
        "ix_campaigns_status_created_at_id",
        "campaigns",
        ["status", "created_at", "id"],
        unique=False,
        schema="coupons",
    )
    op.create_table(
        "customer_claims",
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("claimed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "user_id", name=op.f("pk_customer_claims")),
        schema="coupons",
    )
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
        schema="coupons",
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
        schema="coupons",
    )
    op.create_index(
        "ix_outbox_undelivered",
        "outbox",
        ["occurred_at"],
        unique=False,
        schema="coupons",
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_processed_events")),
        schema="coupons",
    )
    op.create_table(
        "coupons",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("owner_user_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["coupons.campaigns.id"], name=op.f("fk_coupons_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupons")),
        sa.UniqueConstraint("code", name=op.f("uq_coupons_code")),
        schema="coupons",
    )
    op.create_index(
        "ix_coupons_campaign_id_status",
        "coupons",
        ["campaign_id", "status"],
        unique=False,
        schema="coupons",
    )
    op.create_index(
        "ix_coupons_owner_user_id_status_issued_at_id",
        "coupons",
        ["owner_user_id", "status", "issued_at", "id"],
        unique=False,
        schema="coupons",
        postgresql_where=sa.text("owner_user_id IS NOT NULL"),
    )
    op.create_index(
        "ix_coupons_unassigned_campaign_id_code",
        "coupons",
        ["campaign_id", "code"],
        unique=False,
        schema="coupons",
        postgresql_where=sa.text("status = 'unassigned'"),
    )
    op.create_table(
        "redemptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("coupon_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("outlet_id", sa.Uuid(), nullable=False),
        sa.Column("order_reference", sa.String(length=100), nullable=True),
        sa.Column("order_amount", sa.BigInteger(), nullable=True),
        sa.Column("discount_amount", sa.BigInteger(), nullable=True),
        sa.Column("redeemed_by", sa.String(length=200), nullable=False),
        sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reversed_by", sa.String(length=200), nullable=True),
        sa.Column("reversal_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.coupons.id"], name=op.f("fk_redemptions_coupon_id_coupons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        schema="coupons",
    )
    op.create_index(
        "ix_redemptions_campaign_id_outlet_id",
        "redemptions",
        ["campaign_id", "outlet_id"],
        unique=False,
        schema="coupons",
    )
    op.create_index(
        "ix_redemptions_live_coupon_id",
        "redemptions",
        ["coupon_id"],
        unique=True,
        schema="coupons",
        postgresql_where=sa.text("reversed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_redemptions_live_coupon_id",
        table_name="redemptions",
        schema="coupons",
        postgresql_where=sa.text("reversed_at IS NULL"),
    )
    op.drop_index(
        "ix_redemptions_campaign_id_outlet_id", table_name="redemptions", schema="coupons"
    )
    op.drop_table("redemptions", schema="coupons")
    op.drop_index(
        "ix_coupons_unassigned_campaign_id_code",
        table_name="coupons",
        schema="coupons",
        postgresql_where=sa.text("status = 'unassigned'"),
    )
    op.drop_index(
        "ix_coupons_owner_user_id_status_issued_at_id",
        table_name="coupons",
        schema="coupons",
        postgresql_where=sa.text("owner_user_id IS NOT NULL"),
    )
    op.drop_index("ix_coupons_campaign_id_status", table_name="coupons", schema="coupons")
    op.drop_table("coupons", schema="coupons")
    op.drop_table("processed_events", schema="coupons")
    op.drop_index(
        "ix_outbox_undelivered",
        table_name="outbox",
        schema="coupons",
        postgresql_where=sa.text("delivered_at IS NULL"),
    )
    op.drop_table("outbox", schema="coupons")
    op.drop_table("idempotency_keys", schema="coupons")
    op.drop_table("customer_claims", schema="coupons")
    op.drop_index("ix_campaigns_status_created_at_id", table_name="campaigns", schema="coupons")
    op.drop_index(
        "ix_campaigns_merchant_id_status_created_at_id", table_name="campaigns", schema="coupons"
    )
    op.drop_table("campaigns", schema="coupons")
