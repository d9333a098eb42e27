"""Exchange: gift transfers, swap listings, partner allocations

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 18:19:47.877625
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "allocations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("partner_merchant_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "quantity > 0 AND issued >= 0 AND issued <= quantity",
            name=op.f("ck_allocations_within_share"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["coupons.campaigns.id"],
            name=op.f("fk_allocations_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocations")),
        schema="coupons",
    )
    op.create_index(
        "ix_allocations_campaign_id_created_at_id",
        "allocations",
        ["campaign_id", "created_at", "id"],
        unique=False,
        schema="coupons",
    )
    op.create_index(
        "ix_allocations_partner_merchant_id_created_at_id",
        "allocations",
        ["partner_merchant_id", "created_at", "id"],
        unique=False,
        schema="coupons",
    )
    op.create_table(
        "listings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("coupon_id", sa.Uuid(), nullable=False),
        sa.Column("owner_user_id", sa.Uuid(), nullable=False),
        sa.Column("campaign_id", sa.Uuid(), nullable=False),
        sa.Column("merchant_id", sa.Uuid(), nullable=False),
        sa.Column("wants_campaign_id", sa.Uuid(), nullable=True),
        sa.Column("wants_merchant_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("accepted_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("offered_coupon_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.coupons.id"], name=op.f("fk_listings_coupon_id_coupons")
        ),
        sa.ForeignKeyConstraint(
            ["offered_coupon_id"],
            ["coupons.coupons.id"],
            name=op.f("fk_listings_offered_coupon_id_coupons"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        schema="coupons",
    )
    op.create_index(
        "ix_listings_open_campaign_id_created_at_id",
        "listings",
        ["campaign_id", "created_at", "id"],
        unique=False,
        schema="coupons",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_listings_open_coupon_id",
        "listings",
        ["coupon_id"],
        unique=True,
        schema="coupons",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_listings_open_created_at_id",
        "listings",
        ["created_at", "id"],
        unique=False,
        schema="coupons",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_listings_open_merchant_id_created_at_id",
        "listings",
        ["merchant_id", "created_at", "id"],
        unique=False,
        schema="coupons",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_listings_owner_user_id_created_at_id",
        "listings",
        ["owner_user_id", "created_at", "id"],
        unique=False,
        schema="coupons",
    )
    op.create_table(
        "transfers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("coupon_id", sa.Uuid(), nullable=False),
        sa.Column("sender_user_id", sa.Uuid(), nullable=False),
        sa.Column("recipient_user_id", sa.Uuid(), nullable=True),
        sa.Column("claim_token_hash", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["coupon_id"], ["coupons.coupons.id"], name=op.f("fk_transfers_coupon_id_coupons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfers")),
        schema="coupons",
    )
    op.create_index(
        "ix_transfers_pending_coupon_id",
        "transfers",
        ["coupon_id"],
        unique=True,
        schema="coupons",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_transfers_pending_expires_at",
        "transfers",
        ["expires_at"],
        unique=False,
        schema="coupons",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_transfers_recipient_user_id_created_at_id",
        "transfers",
        ["recipient_user_id", "created_at", "id"],
        unique=False,
        schema="coupons",
        postgresql_where=sa.text("recipient_user_id IS NOT NULL"),
    )
    op.create_index(
        "ix_transfers_sender_user_id_created_at_id",
        "transfers",
        ["sender_user_id", "created_at", "id"],
        unique=False,
        schema="coupons",
    )
    op.create_index(
        "ix_transfers_sender_user_id_idempotency_key",
        "transfers",
        ["sender_user_id", "idempotency_key"],
        unique=True,
        schema="coupons",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.add_column(
        "coupons", sa.Column("distributor_merchant_id", sa.Uuid(), nullable=True), schema="coupons"
    )
    op.add_column("coupons", sa.Column("allocation_id", sa.Uuid(), nullable=True), schema="coupons")
    op.create_foreign_key(
        op.f("fk_coupons_allocation_id_allocations"),
        "coupons",
        "allocations",
        ["allocation_id"],
        ["id"],
        source_schema="coupons",
        referent_schema="coupons",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_coupons_allocation_id_allocations"),
        "coupons",
        schema="coupons",
        type_="foreignkey",
    )
    op.drop_column("coupons", "allocation_id", schema="coupons")
    op.drop_column("coupons", "distributor_merchant_id", schema="coupons")
    op.drop_index(
        "ix_transfers_sender_user_id_idempotency_key",
        table_name="transfers",
        schema="coupons",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.drop_index(
        "ix_transfers_sender_user_id_created_at_id", table_name="transfers", schema="coupons"
    )
    op.drop_index(
        "ix_transfers_recipient_user_id_created_at_id",
        table_name="transfers",
        schema="coupons",
        postgresql_where=sa.text("recipient_user_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_transfers_pending_expires_at",
        table_name="transfers",
        schema="coupons",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index(
        "ix_transfers_pending_coupon_id",
        table_name="transfers",
        schema="coupons",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_table("transfers", schema="coupons")
    op.drop_index(
        "ix_listings_owner_user_id_created_at_id", table_name="listings", schema="coupons"
    )
    op.drop_index(
        "ix_listings_open_merchant_id_created_at_id",
        table_name="listings",
        schema="coupons",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index(
        "ix_listings_open_created_at_id",
        table_name="listings",
        schema="coupons",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index(
        "ix_listings_open_coupon_id",
        table_name="listings",
        schema="coupons",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index(
        "ix_listings_open_campaign_id_created_at_id",
        table_name="listings",
        schema="coupons",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_table("listings", schema="coupons")
    op.drop_index(
        "ix_allocations_partner_merchant_id_created_at_id",
        table_name="allocations",
        schema="coupons",
    )
    op.drop_index(
        "ix_allocations_campaign_id_created_at_id", table_name="allocations", schema="coupons"
    )
    op.drop_table("allocations", schema="coupons")
