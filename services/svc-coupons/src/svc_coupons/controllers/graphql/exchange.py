"""The exchange in GraphQL: gifts, the swap marketplace and partner allocations, over the
same service methods as REST, with the same error codes in `extensions.code`. A coupon
shows its code only to its owner: elsewhere it is a CouponSummaryType."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.pagination import checked_page
from core.web.routes import answer_holds_a_secret
from svc_coupons.controllers.graphql.context import CouponsContext
from svc_coupons.controllers.graphql.types import CampaignSummaryType, CouponType
from svc_coupons.schemas.graphql_scalars import Long
from svc_coupons.services.data_model.coupons import CouponDetails
from svc_coupons.services.data_model.exchange import (
    Allocation,
    ListingDetails,
    Swap,
    TransferDetails,
    Wants,
)

CouponsInfo = Info[CouponsContext, None]


@strawberry.type(description="A coupon without its code")
class CouponSummaryType:
    id: UUID
    campaign_id: UUID
    merchant_id: UUID
    status: str
    issued_at: datetime | None
    expires_at: datetime | None
    campaign: CampaignSummaryType

    @classmethod
    def of(cls, details: CouponDetails) -> CouponSummaryType:
        coupon = details.coupon
        return cls(
            id=coupon.id,
            campaign_id=coupon.campaign_id,
            merchant_id=coupon.merchant_id,
            status=details.status.value,
            issued_at=coupon.issued_at,
            expires_at=coupon.expires_at,
            campaign=CampaignSummaryType.of(details.campaign),
        )


@strawberry.type
class TransferType:
    transfer_id: UUID
    status: str
    sender_user_id: UUID
    recipient_user_id: UUID | None
    created_at: datetime
    expires_at: datetime
    closed_at: datetime | None
    coupon: CouponSummaryType

    @classmethod
    def of(cls, details: TransferDetails) -> TransferType:
        transfer = details.transfer
        return cls(
            transfer_id=transfer.id,
            status=details.status.value,
            sender_user_id=transfer.sender_user_id,
            recipient_user_id=transfer.recipient_user_id,
            created_at=transfer.created_at,
            expires_at=transfer.expires_at,
            closed_at=transfer.closed_at,
            coupon=CouponSummaryType.of(details.coupon),
        )


@strawberry.type(description="A gift just made: the claim token is shown here only")
class NewTransferType:
    transfer: TransferType
    claim_token: str


@strawberry.type
class TransferPage:
    items: list[TransferType]
    next_cursor: str | None


@strawberry.type
class WantsType:
    campaign_id: UUID | None
    merchant_id: UUID | None


@strawberry.input
class WantsInput:
    campaign_id: UUID | None = None
    merchant_id: UUID | None = None


@strawberry.type
class ListingType:
    id: UUID
    status: str
    owner_user_id: UUID
    coupon: CouponSummaryType
    wants: WantsType
    created_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, details: ListingDetails) -> ListingType:
        listing = details.listing
        return cls(
            id=listing.id,
            status=details.status.value,
            owner_user_id=listing.owner_user_id,
            coupon=CouponSummaryType.of(details.coupon),
            wants=WantsType(
                campaign_id=listing.wants.campaign_id, merchant_id=listing.wants.merchant_id
            ),
            created_at=listing.created_at,
            closed_at=listing.closed_at,
        )


@strawberry.type
class ListingPage:
    items: list[ListingType]
    next_cursor: str | None


@strawberry.type(description="An accepted listing: the caller received one, gave the other")
class SwapType:
    received: CouponType
    given: CouponSummaryType
    listing: ListingType

    @classmethod
    def of(cls, swap: Swap) -> SwapType:
        return cls(
            received=CouponType.of(swap.received),
            given=CouponSummaryType.of(swap.given),
            listing=ListingType.of(swap.listing),
        )


@strawberry.type
class AllocationType:
    id: UUID
    campaign_id: UUID
    merchant_id: UUID
    partner_merchant_id: UUID
    quantity: Long
    issued: Long
    created_at: datetime

    @classmethod
    def of(cls, allocation: Allocation) -> AllocationType:
        return cls(
            id=allocation.id,
            campaign_id=allocation.campaign_id,
            merchant_id=allocation.merchant_id,
            partner_merchant_id=allocation.partner_merchant_id,
            quantity=allocation.quantity,
            issued=allocation.issued,
            created_at=allocation.created_at,
        )


@strawberry.type
class AllocationPage:
    items: list[AllocationType]
    next_cursor: str | None


@strawberry.type
class ExchangeQuery:
    @strawberry.field(description="The caller's gifts: role sent, received, or both")
    async def transfers(
        self, info: CouponsInfo, role: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> TransferPage:
        ctx = info.context
        page = await ctx.transfers.list(
            principal=ctx.principal(), role=role, page=checked_page(limit, cursor)
        )
        return TransferPage(
            items=[TransferType.of(t) for t in page.items], next_cursor=page.next_cursor
        )

    @strawberry.field(description="A gift, for its sender and recipient")
    async def transfer(self, info: CouponsInfo, id: UUID) -> TransferType:
        ctx = info.context
        return TransferType.of(await ctx.transfers.get(principal=ctx.principal(), transfer_id=id))

    @strawberry.field(description="Open listings (or the caller's own, mine: true), newest first")
    async def listings(
        self,
        info: CouponsInfo,
        campaign_id: UUID | None = None,
        merchant_id: UUID | None = None,
        mine: bool = False,
        limit: int = 20,
        cursor: str | None = None,
    ) -> ListingPage:
        ctx = info.context
        principal = ctx.principal()
        if mine:
            page = await ctx.listings.list_own(
                principal=principal, page=checked_page(limit, cursor)
            )
        else:
            page = await ctx.listings.list_open(
                principal=principal,
                campaign_id=campaign_id,
                merchant_id=merchant_id,
                page=checked_page(limit, cursor),
            )
        return ListingPage(
            items=[ListingType.of(x) for x in page.items], next_cursor=page.next_cursor
        )

    @strawberry.field(description="A listing: open ones for everyone, own ones always")
    async def listing(self, info: CouponsInfo, id: UUID) -> ListingType:
        ctx = info.context
        return ListingType.of(await ctx.listings.get(principal=ctx.principal(), listing_id=id))

    @strawberry.field(
        description="Shares: of a campaign (its owner and staff) or held by a partner merchant"
    )
    async def allocations(
        self,
        info: CouponsInfo,
        campaign_id: UUID | None = None,
        partner_merchant_id: UUID | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> AllocationPage:
        from core.errors import InvalidInput

        ctx = info.context
        if (campaign_id is None) == (partner_merchant_id is None):
            raise InvalidInput("Name either campaignId or partnerMerchantId")
        if campaign_id is not None:
            page = await ctx.allocations.of_campaign(
                principal=ctx.principal(), campaign_id=campaign_id, page=checked_page(limit, cursor)
            )
        else:
            assert partner_merchant_id is not None
            page = await ctx.allocations.of_partner(
                principal=ctx.principal(),
                partner_merchant_id=partner_merchant_id,
                page=checked_page(limit, cursor),
            )
        return AllocationPage(
            items=[AllocationType.of(a) for a in page.items], next_cursor=page.next_cursor
        )

    @strawberry.field(description="A share, for both merchants' people")
    async def allocation(self, info: CouponsInfo, id: UUID) -> AllocationType:
        ctx = info.context
        return AllocationType.of(
            await ctx.allocations.get(principal=ctx.principal(), allocation_id=id)
        )


@strawberry.type
class ExchangeMutation:
    @strawberry.mutation(
        description="Give a coupon away; a retry with the same Idempotency-Key header finds "
        "the same transfer and answers the same claim token (derived, never stored). With "
        "that header it must be the document's only root mutation field, else 400 "
        "`invalid_query` (its answer is not stored, so a retry would run the others again)"
    )
    async def give_coupon(self, info: CouponsInfo, code: str) -> NewTransferType:
        from svc_coupons.controllers.dto.exchange import CouponCodeIn

        ctx = info.context
        key = answer_holds_a_secret(ctx.http_request)
        new = await ctx.transfers.create(
            principal=ctx.principal(),
            code=CouponCodeIn.model_validate({"code": code}).code,
            idempotency_key=key,
        )
        return NewTransferType(transfer=TransferType.of(new.details), claim_token=new.claim_token)

    @strawberry.mutation(
        description="The sender: a new claim token for a pending gift; the previous one "
        "stops working (an accept with it answers invalid_claim_token). Its answer is not kept "
        "for Idempotency-Key replay: a retry rotates again. With that header it must be the "
        "document's only root mutation field, else 400 `invalid_query`"
    )
    async def rotate_claim_token(self, info: CouponsInfo, id: UUID) -> NewTransferType:
        ctx = info.context
        answer_holds_a_secret(ctx.http_request)  # the new token: a retry rotates again
        new = await ctx.transfers.rotate_token(principal=ctx.principal(), transfer_id=id)
        return NewTransferType(transfer=TransferType.of(new.details), claim_token=new.claim_token)

    @strawberry.mutation
    async def accept_transfer(self, info: CouponsInfo, id: UUID, claim_token: str) -> CouponType:
        from svc_coupons.controllers.dto.exchange import AcceptTransferIn

        body = AcceptTransferIn.model_validate({"claim_token": claim_token})
        ctx = info.context
        details = await ctx.transfers.accept(
            principal=ctx.principal(), transfer_id=id, claim_token=body.claim_token
        )
        return CouponType.of(details)

    @strawberry.mutation
    async def cancel_transfer(self, info: CouponsInfo, id: UUID) -> CouponType:
        ctx = info.context
        return CouponType.of(await ctx.transfers.cancel(principal=ctx.principal(), transfer_id=id))

    @strawberry.mutation
    async def create_listing(
        self, info: CouponsInfo, coupon_code: str, wants: WantsInput | None = None
    ) -> ListingType:
        from svc_coupons.controllers.dto.exchange import ListingIn

        body = ListingIn.model_validate(
            {"coupon_code": coupon_code, "wants": strawberry.asdict(wants) if wants else {}}
        )
        ctx = info.context
        details = await ctx.listings.create(
            principal=ctx.principal(),
            code=body.coupon_code,
            wants=Wants(campaign_id=body.wants.campaign_id, merchant_id=body.wants.merchant_id),
        )
        return ListingType.of(details)

    @strawberry.mutation
    async def accept_listing(
        self, info: CouponsInfo, id: UUID, offered_coupon_code: str
    ) -> SwapType:
        from svc_coupons.controllers.dto.exchange import AcceptListingIn

        body = AcceptListingIn.model_validate({"offered_coupon_code": offered_coupon_code})
        ctx = info.context
        swap = await ctx.listings.accept(
            principal=ctx.principal(), listing_id=id, offered_code=body.offered_coupon_code
        )
        return SwapType.of(swap)

    @strawberry.mutation
    async def cancel_listing(self, info: CouponsInfo, id: UUID) -> CouponType:
        ctx = info.context
        return CouponType.of(await ctx.listings.cancel(principal=ctx.principal(), listing_id=id))

    @strawberry.mutation
    async def allocate(
        self, info: CouponsInfo, campaign_id: UUID, partner_merchant_id: UUID, quantity: Long
    ) -> AllocationType:
        from svc_coupons.controllers.dto.exchange import AllocationIn

        body = AllocationIn.model_validate(
            {"partner_merchant_id": partner_merchant_id, "quantity": quantity}
        )
        ctx = info.context
        allocation = await ctx.allocations.create(
            principal=ctx.principal(),
            campaign_id=campaign_id,
            partner_merchant_id=body.partner_merchant_id,
            quantity=body.quantity,
        )
        return AllocationType.of(allocation)

    @strawberry.mutation
    async def issue_from_allocation(self, info: CouponsInfo, id: UUID, user_id: UUID) -> CouponType:
        ctx = info.context
        details = await ctx.allocations.issue(
            principal=ctx.principal(), allocation_id=id, user_id=user_id
        )
        return CouponType.of(details)
