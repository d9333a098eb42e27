"""Gift transfers, the swap marketplace and partner allocations: requests and answers.

A coupon appears with its code only to its owner: listings, transfers and the coupon a
swap gave away show a summary without one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from svc_coupons.controllers.dto import examples as ex
from svc_coupons.controllers.dto.campaigns import CampaignSummaryOut
from svc_coupons.controllers.dto.coupons import CouponOut
from svc_coupons.schemas.text import STORABLE
from svc_coupons.services.allocations import MAX_ALLOCATION
from svc_coupons.services.data_model.coupons import CouponDetails
from svc_coupons.services.data_model.exchange import (
    Allocation,
    ListingDetails,
    NewTransfer,
    Swap,
    TransferDetails,
    Wants,
)

CouponCode = Annotated[
    str,
    Field(min_length=1, max_length=64, description="Any case; spaces, dashes ignored"),
    STORABLE,
]


class CouponCodeIn(BaseModel):
    """A code given as an argument (GraphQL's, REST's path): checked like a body's."""

    code: CouponCode


class CouponSummaryOut(BaseModel):
    """A coupon without its code."""

    model_config = ConfigDict(json_schema_extra=ex.example(ex.COUPON_SUMMARY))

    id: UUID
    campaign_id: UUID
    merchant_id: UUID
    status: str
    issued_at: datetime | None
    expires_at: datetime | None
    campaign: CampaignSummaryOut

    @classmethod
    def of(cls, details: CouponDetails) -> CouponSummaryOut:
        coupon = details.coupon
        return cls(
            id=coupon.id,
            campaign_id=coupon.campaign_id,
            merchant_id=coupon.merchant_id,
            status=details.status.value,
            issued_at=coupon.issued_at,
            expires_at=coupon.expires_at,
            campaign=CampaignSummaryOut.of(details.campaign),
        )


class TransferOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.TRANSFER))

    transfer_id: UUID
    status: str = Field(description="pending, accepted, cancelled or expired")
    sender_user_id: UUID
    recipient_user_id: UUID | None
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    coupon: CouponSummaryOut

    @classmethod
    def of(cls, details: TransferDetails) -> TransferOut:
        transfer = details.transfer
        return cls(
            transfer_id=transfer.id,
            status=details.status.value,
            sender_user_id=transfer.sender_user_id,
            recipient_user_id=transfer.recipient_user_id,
            created_at=transfer.created_at,
            expires_at=transfer.expires_at,
            closed_at=transfer.closed_at,
            coupon=CouponSummaryOut.of(details.coupon),
        )


class NewTransferOut(TransferOut):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.NEW_TRANSFER))

    claim_token: str = Field(
        description="Shown only here: whoever brings it (with transfer_id) takes the coupon"
    )

    @classmethod
    def created(cls, new: NewTransfer) -> NewTransferOut:
        return cls(**TransferOut.of(new.details).model_dump(), claim_token=new.claim_token)


class AcceptTransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.ACCEPT_TRANSFER_IN))

    claim_token: Annotated[str, Field(min_length=1, max_length=200), STORABLE]


class WantsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    campaign_id: UUID | None = None
    merchant_id: UUID | None = None

    def wants(self) -> Wants:
        return Wants(campaign_id=self.campaign_id, merchant_id=self.merchant_id)


class WantsOut(BaseModel):
    campaign_id: UUID | None
    merchant_id: UUID | None


class ListingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.LISTING_IN))

    coupon_code: CouponCode
    wants: WantsIn = Field(default_factory=WantsIn, description="Nothing named: any offer")


class ListingOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.LISTING))

    id: UUID
    status: str = Field(description="open, accepted, cancelled or expired (its coupon ran out)")
    owner_user_id: UUID
    coupon: CouponSummaryOut
    wants: WantsOut
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, details: ListingDetails) -> ListingOut:
        listing = details.listing
        return cls(
            id=listing.id,
            status=details.status.value,
            owner_user_id=listing.owner_user_id,
            coupon=CouponSummaryOut.of(details.coupon),
            wants=WantsOut(
                campaign_id=listing.wants.campaign_id, merchant_id=listing.wants.merchant_id
            ),
            created_at=listing.created_at,
            closed_at=listing.closed_at,
        )


class AcceptListingIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.ACCEPT_LISTING_IN))

    offered_coupon_code: CouponCode


class SwapOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.SWAP))

    received: CouponOut = Field(description="The listed coupon, now the caller's, new code")
    given: CouponSummaryOut = Field(description="The offered coupon, now the lister's")
    listing: ListingOut

    @classmethod
    def of(cls, swap: Swap) -> SwapOut:
        return cls(
            received=CouponOut.of(swap.received),
            given=CouponSummaryOut.of(swap.given),
            listing=ListingOut.of(swap.listing),
        )


class AllocationIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.ALLOCATION_IN))

    partner_merchant_id: UUID
    quantity: int = Field(ge=1, le=MAX_ALLOCATION)


class AllocationOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.ALLOCATION))

    id: UUID
    campaign_id: UUID
    merchant_id: UUID
    partner_merchant_id: UUID
    quantity: int
    issued: int
    created_at: datetime

    @classmethod
    def of(cls, allocation: Allocation) -> AllocationOut:
        return cls(
            id=allocation.id,
            campaign_id=allocation.campaign_id,
            merchant_id=allocation.merchant_id,
            partner_merchant_id=allocation.partner_merchant_id,
            quantity=allocation.quantity,
            issued=allocation.issued,
            created_at=allocation.created_at,
        )
