"""Gift transfers, the swap marketplace and partner allocations: requests and answers.

A coupon appears with its code only to its owner: listings, transfers and the coupon a
swap gave away show a summary without one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from core.pagination import PageOut
from svc_coupons.controllers.dto import examples as ex
from svc_coupons.controllers.dto.campaigns import CampaignSummary
from svc_coupons.controllers.dto.coupons import Coupon
from svc_coupons.schemas.numbers import Long
from svc_coupons.schemas.text import STORABLE
from svc_coupons.services.allocations import MAX_ALLOCATION
from svc_coupons.services.data_model import exchange as domain
from svc_coupons.services.data_model.coupons import CouponDetails, CouponStatus
from svc_coupons.services.data_model.exchange import (
    ListingDetails,
    ListingStatus,
    TransferDetails,
    TransferStatus,
)

CouponCode = Annotated[
    str,
    Field(min_length=1, max_length=64, description="Any case; spaces, dashes ignored"),
    STORABLE,
]


class TransferRole(StrEnum):
    """Which of the caller's gifts a list shows: those they sent or those they received."""

    SENT = "sent"
    RECEIVED = "received"


class CouponCodeIn(BaseModel):
    """A code given as an argument (GraphQL's, REST's path): checked like a body's."""

    code: CouponCode


class CouponSummary(BaseModel):
    """A coupon without its code."""

    model_config = ConfigDict(json_schema_extra=ex.example(ex.COUPON_SUMMARY))

    id: UUID
    campaign_id: UUID
    merchant_id: UUID
    status: CouponStatus
    issued_at: datetime | None
    expires_at: datetime | None
    campaign: CampaignSummary

    @classmethod
    def of(cls, details: CouponDetails) -> CouponSummary:
        coupon = details.coupon
        return cls(
            id=coupon.id,
            campaign_id=coupon.campaign_id,
            merchant_id=coupon.merchant_id,
            status=details.status,
            issued_at=coupon.issued_at,
            expires_at=coupon.expires_at,
            campaign=CampaignSummary.of(details.campaign),
        )


class Transfer(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.TRANSFER))

    id: UUID
    status: TransferStatus
    sender_user_id: UUID
    recipient_user_id: UUID | None
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    coupon: CouponSummary

    @classmethod
    def of(cls, details: TransferDetails) -> Transfer:
        transfer = details.transfer
        return cls(
            id=transfer.id,
            status=details.status,
            sender_user_id=transfer.sender_user_id,
            recipient_user_id=transfer.recipient_user_id,
            created_at=transfer.created_at,
            expires_at=transfer.expires_at,
            closed_at=transfer.closed_at,
            coupon=CouponSummary.of(details.coupon),
        )


class NewTransfer(Transfer):
    """A gift just made, or its claim token just rotated."""

    model_config = ConfigDict(json_schema_extra=ex.example(ex.NEW_TRANSFER))

    claim_token: str = Field(
        description="Shown only here: whoever brings it (with the transfer's id) takes the coupon"
    )

    @classmethod
    def created(cls, new: domain.NewTransfer) -> NewTransfer:
        return cls(**Transfer.of(new.details).model_dump(), claim_token=new.claim_token)


class AcceptTransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.ACCEPT_TRANSFER_IN))

    claim_token: Annotated[str, Field(min_length=1, max_length=200), STORABLE]


class WantsInput(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.WANTS_IN))

    campaign_id: UUID | None = None
    merchant_id: UUID | None = None

    def wants(self) -> domain.Wants:
        return domain.Wants(campaign_id=self.campaign_id, merchant_id=self.merchant_id)


class Wants(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.WANTS))

    campaign_id: UUID | None
    merchant_id: UUID | None


class ListingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.LISTING_IN))

    coupon_code: CouponCode
    wants: WantsInput = Field(default_factory=WantsInput, description="Nothing named: any offer")


class Listing(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.LISTING))

    id: UUID
    status: ListingStatus = Field(description="expired: its coupon ran out")
    owner_user_id: UUID
    coupon: CouponSummary
    wants: Wants
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, details: ListingDetails) -> Listing:
        listing = details.listing
        return cls(
            id=listing.id,
            status=details.status,
            owner_user_id=listing.owner_user_id,
            coupon=CouponSummary.of(details.coupon),
            wants=Wants(
                campaign_id=listing.wants.campaign_id, merchant_id=listing.wants.merchant_id
            ),
            created_at=listing.created_at,
            closed_at=listing.closed_at,
        )


class AcceptListingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.ACCEPT_LISTING_IN))

    offered_coupon_code: CouponCode


class Swap(BaseModel):
    """An accepted listing: the caller received one coupon and gave the other."""

    model_config = ConfigDict(json_schema_extra=ex.example(ex.SWAP))

    received: Coupon = Field(description="The listed coupon, now the caller's, new code")
    given: CouponSummary = Field(description="The offered coupon, now the lister's")
    listing: Listing

    @classmethod
    def of(cls, swap: domain.Swap) -> Swap:
        return cls(
            received=Coupon.of(swap.received),
            given=CouponSummary.of(swap.given),
            listing=Listing.of(swap.listing),
        )


class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.ALLOCATION_IN))

    partner_merchant_id: UUID
    quantity: Long = Field(ge=1, le=MAX_ALLOCATION)


class Allocation(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.ALLOCATION))

    id: UUID
    campaign_id: UUID
    merchant_id: UUID
    partner_merchant_id: UUID
    quantity: Long
    issued: Long
    created_at: datetime

    @classmethod
    def of(cls, allocation: domain.Allocation) -> Allocation:
        return cls(
            id=allocation.id,
            campaign_id=allocation.campaign_id,
            merchant_id=allocation.merchant_id,
            partner_merchant_id=allocation.partner_merchant_id,
            quantity=allocation.quantity,
            issued=allocation.issued,
            created_at=allocation.created_at,
        )


class TransferPage(PageOut[Transfer]):
    """A page of gifts, newest first."""


class ListingPage(PageOut[Listing]):
    """A page of swap listings, newest first."""


class AllocationPage(PageOut[Allocation]):
    """A page of partner allocations, newest first."""
