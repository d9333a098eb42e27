"""The exchange: gifts between customers, swaps on the marketplace, and the shares of a
campaign handed to partner merchants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from svc_coupons.services.data_model.coupons import Coupon, CouponDetails, CouponStatus


class TransferStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Transfer:
    id: UUID
    coupon_id: UUID
    sender_user_id: UUID
    recipient_user_id: UUID | None
    claim_token_hash: str
    idempotency_key: str | None
    stored_status: TransferStatus
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    # Which claim token is current (services.claim_tokens): bumped by each rotation.
    claim_token_generation: int = 0

    def status_at(self, now: datetime) -> TransferStatus:
        """A pending gift past its time has lapsed, whether or not the sweep has run."""
        if self.stored_status is TransferStatus.PENDING and now >= self.expires_at:
            return TransferStatus.EXPIRED
        return self.stored_status


@dataclass(frozen=True, slots=True)
class TransferDetails:
    """A transfer with its coupon, as its sender and recipient see it."""

    transfer: Transfer
    coupon: CouponDetails
    status: TransferStatus  # expired too once its coupon is, pending or not swept yet

    @staticmethod
    def status_of(transfer: Transfer, coupon: Coupon, now: datetime) -> TransferStatus:
        status = transfer.status_at(now)
        if status is TransferStatus.PENDING and coupon.status_at(now) is CouponStatus.EXPIRED:
            return TransferStatus.EXPIRED  # its coupon ran out while it waited
        return status


@dataclass(frozen=True, slots=True)
class GiftOutcome:
    """What the one statement that accepts a gift found and did."""

    code_taken: bool  # the new code was taken: nothing changed, draw again
    limit_reached: bool  # the recipient holds the campaign's per-customer limit already
    coupon: Coupon | None  # the coupon, now the recipient's; None: nothing moved


@dataclass(frozen=True, slots=True)
class NewTransfer:
    """A gift just made (or found again by its Idempotency-Key, or its token rotated), with
    its claim token: derived, never stored (its hash is)."""

    details: TransferDetails
    claim_token: str
    replayed: bool


class ListingStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # its coupon ran out while listed: shown at once, stored by the sweep


@dataclass(frozen=True, slots=True)
class Wants:
    """What a listing's owner takes in exchange; nothing named: any tradable coupon."""

    campaign_id: UUID | None = None
    merchant_id: UUID | None = None

    def matched_by(self, coupon: Coupon) -> bool:
        return (self.campaign_id is None or coupon.campaign_id == self.campaign_id) and (
            self.merchant_id is None or coupon.merchant_id == self.merchant_id
        )


@dataclass(frozen=True, slots=True)
class Listing:
    id: UUID
    coupon_id: UUID
    owner_user_id: UUID
    campaign_id: UUID
    merchant_id: UUID
    wants: Wants
    stored_status: ListingStatus
    created_at: datetime
    closed_at: datetime | None
    accepted_by_user_id: UUID | None
    offered_coupon_id: UUID | None


@dataclass(frozen=True, slots=True)
class ListingDetails:
    """A listing with its coupon and campaign; shown without the coupon's code."""

    listing: Listing
    coupon: CouponDetails
    status: ListingStatus  # open only while its coupon is still held and unexpired

    @staticmethod
    def status_of(listing: Listing, coupon: Coupon, now: datetime) -> ListingStatus:
        if listing.stored_status is not ListingStatus.OPEN:
            return listing.stored_status
        if coupon.stored_status is not CouponStatus.RESERVED:
            return ListingStatus.CANCELLED  # its coupon was voided by the merchant
        if coupon.expires_at is not None and now >= coupon.expires_at:
            return ListingStatus.EXPIRED
        return ListingStatus.OPEN


@dataclass(frozen=True, slots=True)
class SwapOutcome:
    """What the one statement that accepts a listing found and did."""

    listing_open: bool  # open, and not the taker's own
    listed_held: bool  # its coupon still held and unexpired
    offer_fits: bool  # the offered coupon: the taker's, active, tradable, as wanted
    code_taken: bool  # a new code was taken: nothing changed, draw again
    limit_reached: bool  # taker or lister holds the per-customer limit of what they'd get
    received: Coupon | None  # the listed coupon, now the taker's; None: no swap
    given: Coupon | None  # the offered coupon, now the listing owner's


@dataclass(frozen=True, slots=True)
class Swap:
    """An accepted listing: what the accepting customer received and gave."""

    listing: ListingDetails
    received: CouponDetails
    given: CouponDetails


@dataclass(frozen=True, slots=True)
class Allocation:
    id: UUID
    campaign_id: UUID
    merchant_id: UUID
    partner_merchant_id: UUID
    quantity: int
    issued: int
    created_by: str
    created_at: datetime

    @property
    def remaining(self) -> int:
        return self.quantity - self.issued
