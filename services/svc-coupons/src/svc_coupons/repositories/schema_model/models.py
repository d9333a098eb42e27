from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import (
    ARRAY,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    func,
    select,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

from core.database import service_metadata
from core.database.platform_tables import PlatformTables

SCHEMA = "coupons"


class Base(DeclarativeBase):
    metadata = service_metadata(SCHEMA)


platform_tables = PlatformTables.define(Base.metadata)


class CampaignRow(Base):
    __tablename__ = "campaigns"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    merchant_id: Mapped[UUID]
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    discount_type: Mapped[str] = mapped_column(String(20))
    discount_value: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    min_spend: Mapped[int | None] = mapped_column(BigInteger)
    total_quantity: Mapped[int | None] = mapped_column(Integer)
    per_customer_limit: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    validity_days: Mapped[int | None] = mapped_column(Integer)
    outlet_ids: Mapped[list[UUID]] = mapped_column(ARRAY(Uuid))
    transferable: Mapped[bool]
    tradable: Mapped[bool]
    status: Mapped[str] = mapped_column(String(20))
    # What was taken before a campaign's units moved to its counter shards
    # (CampaignUnitRow, migration 0009); no longer written, and read by nothing: the count
    # is the sum of the shards' `taken` (`units_taken` below).
    issued_count_before_shards: Mapped[int] = mapped_column(
        "issued_count", Integer, server_default=text("0")
    )
    redeemed_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # The last line of defence for the quantity: no code path can oversell past it.
        CheckConstraint(
            "total_quantity IS NULL OR issued_count <= total_quantity", name="within_quantity"
        ),
        CheckConstraint("issued_count >= 0 AND redeemed_count >= 0", name="counts_not_negative"),
        Index("ix_campaigns_status_created_at_id", "status", "created_at", "id"),
        Index(
            "ix_campaigns_merchant_id_status_created_at_id",
            "merchant_id",
            "status",
            "created_at",
            "id",
        ),
    )


class CampaignUnitRow(Base):
    """One of a campaign's counter shards: a slice of its total quantity (`capacity`, NULL
    when the campaign is unlimited) and how much of it was taken. Claims take a unit from
    any open shard with stock, so they do not queue on one row; the sum of `taken` is the
    campaign's issued count, the sum of `capacity` its total quantity. `open` while the
    campaign is active: a pause or an end closes every shard in the transaction that changes
    the status, so a claim racing it either committed first or finds its shard closed."""

    __tablename__ = "campaign_units"

    campaign_id: Mapped[UUID] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    capacity: Mapped[int | None] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    open: Mapped[bool]

    __table_args__ = (
        CheckConstraint("capacity IS NULL OR taken <= capacity", name="within_capacity"),
        CheckConstraint("taken >= 0", name="taken_not_negative"),
        # Spread over pages: each claim rewrites a shard row (migration 0009).
        {"postgresql_with": {"fillfactor": "10"}},
    )


# Units taken from total_quantity (coupons issued or claimed, generated codes, partner
# shares): the sum over the campaign's shards, read with every campaign the ORM loads.
CampaignRow.units_taken = column_property(
    select(func.coalesce(func.sum(CampaignUnitRow.taken), 0))
    .where(CampaignUnitRow.campaign_id == CampaignRow.id)
    .correlate_except(CampaignUnitRow)
    .scalar_subquery()
)


class CouponRow(Base):
    __tablename__ = "coupons"

    # Drawn by the database when not given: generated codes are copied in without one.
    id: Mapped[UUID] = mapped_column(primary_key=True, server_default=text("gen_random_uuid()"))
    campaign_id: Mapped[UUID] = mapped_column(ForeignKey("campaigns.id"))
    merchant_id: Mapped[UUID]
    code: Mapped[str] = mapped_column(String(16), unique=True)
    owner_user_id: Mapped[UUID | None]
    status: Mapped[str] = mapped_column(String(20))
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    void_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set on coupons a partner merchant issued from an allocation (stats by distributor).
    distributor_merchant_id: Mapped[UUID | None]
    allocation_id: Mapped[UUID | None] = mapped_column(ForeignKey("allocations.id"))
    # Bumped by every statement that changes the coupon, under its row lock: the order its
    # changes committed in, which its events carry and its history is sorted by.
    version: Mapped[int] = mapped_column(BigInteger, server_default=text("1"))

    __table_args__ = (
        # The wallet: one owner's coupons by status, newest first.
        Index(
            "ix_coupons_owner_user_id_status_issued_at_id",
            "owner_user_id",
            "status",
            "issued_at",
            "id",
            postgresql_where=text("owner_user_id IS NOT NULL"),
        ),
        # Listing and exporting a campaign's unassigned codes in code order.
        Index(
            "ix_coupons_unassigned_campaign_id_code",
            "campaign_id",
            "code",
            postgresql_where=text("status = 'unassigned'"),
        ),
        # Stats: a campaign's coupons counted by status.
        Index("ix_coupons_campaign_id_status", "campaign_id", "status"),
    )


class CustomerClaimRow(Base):
    """How many coupons of a campaign a customer has received: the per-customer limit's
    counter, one row per (campaign, customer) so customers never wait on each other."""

    __tablename__ = "customer_claims"

    campaign_id: Mapped[UUID] = mapped_column(primary_key=True)
    user_id: Mapped[UUID] = mapped_column(primary_key=True)
    claimed: Mapped[int] = mapped_column(Integer)


class RedemptionRow(Base):
    __tablename__ = "redemptions"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    coupon_id: Mapped[UUID] = mapped_column(ForeignKey("coupons.id"))
    campaign_id: Mapped[UUID]
    merchant_id: Mapped[UUID]
    outlet_id: Mapped[UUID]
    order_reference: Mapped[str | None] = mapped_column(String(100))
    order_amount: Mapped[int | None] = mapped_column(BigInteger)
    discount_amount: Mapped[int | None] = mapped_column(BigInteger)
    redeemed_by: Mapped[str] = mapped_column(String(200))
    redeemed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reversed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reversed_by: Mapped[str | None] = mapped_column(String(200))
    reversal_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # At most one standing redemption per coupon, whatever the application does.
        Index(
            "ix_redemptions_live_coupon_id",
            "coupon_id",
            unique=True,
            postgresql_where=text("reversed_at IS NULL"),
        ),
        Index("ix_redemptions_campaign_id_outlet_id", "campaign_id", "outlet_id"),
    )


class TransferRow(Base):
    """A gift: the sender's coupon held until another customer accepts it with the token."""

    __tablename__ = "transfers"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    coupon_id: Mapped[UUID] = mapped_column(ForeignKey("coupons.id"))
    sender_user_id: Mapped[UUID]
    recipient_user_id: Mapped[UUID | None]
    # SHA-256 of the claim token: the token itself is derived (an HMAC under the server
    # secret of the transfer id and this generation) and stored nowhere.
    claim_token_hash: Mapped[str] = mapped_column(String(64))
    # Bumped by each rotation the sender asks for: the old token stops working.
    claim_token_generation: Mapped[int] = mapped_column(Integer, server_default="0")
    # The sender's Idempotency-Key: a retried gift finds its transfer, not a second one.
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # One pending gift per coupon, whatever runs at once.
        Index(
            "ix_transfers_pending_coupon_id",
            "coupon_id",
            unique=True,
            postgresql_where=text("status = 'pending'"),
        ),
        Index(
            "ix_transfers_sender_user_id_idempotency_key",
            "sender_user_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
        Index("ix_transfers_sender_user_id_created_at_id", "sender_user_id", "created_at", "id"),
        Index(
            "ix_transfers_recipient_user_id_created_at_id",
            "recipient_user_id",
            "created_at",
            "id",
            postgresql_where=text("recipient_user_id IS NOT NULL"),
        ),
        # The sweep: pending gifts by when they lapse.
        Index(
            "ix_transfers_pending_expires_at",
            "expires_at",
            postgresql_where=text("status = 'pending'"),
        ),
    )


class ListingRow(Base):
    """A coupon offered for a swap, and what its owner wants for it."""

    __tablename__ = "listings"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    coupon_id: Mapped[UUID] = mapped_column(ForeignKey("coupons.id"))
    owner_user_id: Mapped[UUID]
    # The listed coupon's, kept on the listing for the marketplace's filters.
    campaign_id: Mapped[UUID]
    merchant_id: Mapped[UUID]
    wants_campaign_id: Mapped[UUID | None]
    wants_merchant_id: Mapped[UUID | None]
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    accepted_by_user_id: Mapped[UUID | None]
    offered_coupon_id: Mapped[UUID | None] = mapped_column(ForeignKey("coupons.id"))

    __table_args__ = (
        Index(
            "ix_listings_open_coupon_id",
            "coupon_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        # The marketplace: open listings newest first, all or by campaign or merchant.
        Index(
            "ix_listings_open_created_at_id",
            "created_at",
            "id",
            postgresql_where=text("status = 'open'"),
        ),
        Index(
            "ix_listings_open_campaign_id_created_at_id",
            "campaign_id",
            "created_at",
            "id",
            postgresql_where=text("status = 'open'"),
        ),
        Index(
            "ix_listings_open_merchant_id_created_at_id",
            "merchant_id",
            "created_at",
            "id",
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_listings_owner_user_id_created_at_id", "owner_user_id", "created_at", "id"),
    )


class AllocationRow(Base):
    """A share of a campaign's quantity handed to a partner merchant to issue."""

    __tablename__ = "allocations"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    campaign_id: Mapped[UUID] = mapped_column(ForeignKey("campaigns.id"))
    merchant_id: Mapped[UUID]  # the campaign's
    partner_merchant_id: Mapped[UUID]
    quantity: Mapped[int] = mapped_column(Integer)
    issued: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        # The last line of defence: no code path issues past the share.
        CheckConstraint("quantity > 0 AND issued >= 0 AND issued <= quantity", name="within_share"),
        Index("ix_allocations_campaign_id_created_at_id", "campaign_id", "created_at", "id"),
        Index(
            "ix_allocations_partner_merchant_id_created_at_id",
            "partner_merchant_id",
            "created_at",
            "id",
        ),
    )
