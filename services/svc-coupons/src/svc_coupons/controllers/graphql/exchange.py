"""The exchange in GraphQL: gifts, the swap marketplace and partner allocations, over the
same service methods as REST, with the same error codes in `extensions.code`. A coupon
shows its code only to its owner: elsewhere it is a CouponSummary."""

from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.types import Info

from core.errors import InvalidInput
from core.pagination import Page, checked_page
from core.web.routes import answer_holds_a_secret
from svc_coupons.controllers.dto import coupons as coupon_dto
from svc_coupons.controllers.dto import exchange as exchange_dto
from svc_coupons.controllers.graphql import objects
from svc_coupons.controllers.graphql.context import CouponsContext
from svc_coupons.controllers.scopes import READ, WRITE
from svc_coupons.schemas.numbers import Long
from svc_coupons.services.data_model import exchange as domain
from svc_coupons.services.data_model.coupons import CouponDetails

CouponsInfo = Info[CouponsContext, None]


def _coupon(details: CouponDetails) -> objects.Coupon:
    return objects.Coupon.from_pydantic(coupon_dto.Coupon.of(details))


def _transfer(details: domain.TransferDetails) -> objects.Transfer:
    return objects.Transfer.from_pydantic(exchange_dto.Transfer.of(details))


def _new_transfer(new: domain.NewTransfer) -> objects.NewTransfer:
    return objects.NewTransfer.from_pydantic(exchange_dto.NewTransfer.created(new))


def _listing(details: domain.ListingDetails) -> objects.Listing:
    return objects.Listing.from_pydantic(exchange_dto.Listing.of(details))


def _allocation(allocation: domain.Allocation) -> objects.Allocation:
    return objects.Allocation.from_pydantic(exchange_dto.Allocation.of(allocation))


def _allocations(page: Page[domain.Allocation]) -> objects.Page[objects.Allocation]:
    return objects.Page(items=[_allocation(a) for a in page.items], next_cursor=page.next_cursor)


@strawberry.type
class ExchangeQuery:
    @strawberry.field(description="The caller's gifts: role sent, received, or both")
    async def transfers(
        self,
        info: CouponsInfo,
        role: exchange_dto.TransferRole | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> objects.Page[objects.Transfer]:
        ctx = info.context
        page = await ctx.transfers.list(
            principal=ctx.principal(READ), role=role, page=checked_page(limit, cursor)
        )
        return objects.Page(items=[_transfer(t) for t in page.items], next_cursor=page.next_cursor)

    @strawberry.field(description="A gift, for its sender and recipient")
    async def transfer(self, info: CouponsInfo, id: UUID) -> objects.Transfer:
        ctx = info.context
        return _transfer(await ctx.transfers.get(principal=ctx.principal(READ), transfer_id=id))

    @strawberry.field(description="Open listings (or the caller's own, mine: true), newest first")
    async def listings(
        self,
        info: CouponsInfo,
        campaign_id: UUID | None = None,
        merchant_id: UUID | None = None,
        mine: bool = False,
        limit: int = 20,
        cursor: str | None = None,
    ) -> objects.Page[objects.Listing]:
        ctx = info.context
        principal = ctx.principal(READ)
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
        return objects.Page(items=[_listing(x) for x in page.items], next_cursor=page.next_cursor)

    @strawberry.field(description="A listing: open ones for everyone, own ones always")
    async def listing(self, info: CouponsInfo, id: UUID) -> objects.Listing:
        ctx = info.context
        return _listing(await ctx.listings.get(principal=ctx.principal(READ), listing_id=id))

    @strawberry.field(description="Owner, staff: the campaign's shares, newest first")
    async def campaign_allocations(
        self, info: CouponsInfo, campaign_id: UUID, limit: int = 20, cursor: str | None = None
    ) -> objects.Page[objects.Allocation]:
        ctx = info.context
        page = await ctx.allocations.of_campaign(
            principal=ctx.principal(READ), campaign_id=campaign_id, page=checked_page(limit, cursor)
        )
        return _allocations(page)

    @strawberry.field(
        description="Shares held by a partner merchant (its people), or of a campaign (its "
        "owner and staff, as campaignAllocations): name exactly one of the two"
    )
    async def allocations(
        self,
        info: CouponsInfo,
        campaign_id: UUID | None = None,
        partner_merchant_id: UUID | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> objects.Page[objects.Allocation]:
        ctx = info.context
        if (campaign_id is None) == (partner_merchant_id is None):
            raise InvalidInput("Name either campaignId or partnerMerchantId")
        if campaign_id is not None:
            page = await ctx.allocations.of_campaign(
                principal=ctx.principal(READ),
                campaign_id=campaign_id,
                page=checked_page(limit, cursor),
            )
        else:
            assert partner_merchant_id is not None
            page = await ctx.allocations.of_partner(
                principal=ctx.principal(READ),
                partner_merchant_id=partner_merchant_id,
                page=checked_page(limit, cursor),
            )
        return _allocations(page)

    @strawberry.field(description="A share, for both merchants' people")
    async def allocation(self, info: CouponsInfo, id: UUID) -> objects.Allocation:
        ctx = info.context
        return _allocation(
            await ctx.allocations.get(principal=ctx.principal(READ), allocation_id=id)
        )


@strawberry.type
class ExchangeMutation:
    @strawberry.mutation(
        description="Give a coupon away; a retry with the same Idempotency-Key header finds "
        "the same transfer and answers the same claim token (derived, never stored). With "
        "that header it must be the document's only root mutation field, else 400 "
        "`invalid_query` (its answer is not stored, so a retry would run the others again)"
    )
    async def give_coupon(self, info: CouponsInfo, code: str) -> objects.NewTransfer:
        ctx = info.context
        key = answer_holds_a_secret(ctx.http_request)
        new = await ctx.transfers.create(
            principal=ctx.principal(WRITE),
            code=exchange_dto.CouponCodeIn.model_validate({"code": code}).code,
            idempotency_key=key,
        )
        return _new_transfer(new)

    @strawberry.mutation(
        description="The sender: a new claim token for a pending gift; the previous one "
        "stops working (an accept with it answers invalid_claim_token). Its answer is not kept "
        "for Idempotency-Key replay: a retry rotates again. With that header it must be the "
        "document's only root mutation field, else 400 `invalid_query`"
    )
    async def rotate_claim_token(self, info: CouponsInfo, id: UUID) -> objects.NewTransfer:
        ctx = info.context
        answer_holds_a_secret(ctx.http_request)  # the new token: a retry rotates again
        return _new_transfer(
            await ctx.transfers.rotate_token(principal=ctx.principal(WRITE), transfer_id=id)
        )

    @strawberry.mutation(
        description="Any other customer, with the claim token: the coupon becomes theirs"
    )
    async def accept_transfer(
        self, info: CouponsInfo, id: UUID, claim_token: str
    ) -> objects.Coupon:
        body = exchange_dto.AcceptTransferIn.model_validate({"claim_token": claim_token})
        ctx = info.context
        details = await ctx.transfers.accept(
            principal=ctx.principal(WRITE), transfer_id=id, claim_token=body.claim_token
        )
        return _coupon(details)

    @strawberry.mutation(description="The sender: take the coupon back, active again")
    async def cancel_transfer(self, info: CouponsInfo, id: UUID) -> objects.Coupon:
        ctx = info.context
        return _coupon(await ctx.transfers.cancel(principal=ctx.principal(WRITE), transfer_id=id))

    @strawberry.mutation(
        description="Coupon owner: offer a coupon of a tradable campaign for one matching wants"
    )
    async def create_listing(
        self, info: CouponsInfo, coupon_code: str, wants: objects.WantsInput | None = None
    ) -> objects.Listing:
        body = exchange_dto.ListingIn.model_validate(
            {"coupon_code": coupon_code, "wants": strawberry.asdict(wants) if wants else {}}
        )
        ctx = info.context
        details = await ctx.listings.create(
            principal=ctx.principal(WRITE), code=body.coupon_code, wants=body.wants.wants()
        )
        return _listing(details)

    @strawberry.mutation(description="Another customer: swap one of their coupons matching wants")
    async def accept_listing(
        self, info: CouponsInfo, id: UUID, offered_coupon_code: str
    ) -> objects.Swap:
        body = exchange_dto.AcceptListingIn.model_validate(
            {"offered_coupon_code": offered_coupon_code}
        )
        ctx = info.context
        swap = await ctx.listings.accept(
            principal=ctx.principal(WRITE), listing_id=id, offered_code=body.offered_coupon_code
        )
        return objects.Swap.from_pydantic(exchange_dto.Swap.of(swap))

    @strawberry.mutation(description="The listing's owner: take the coupon back, active again")
    async def cancel_listing(self, info: CouponsInfo, id: UUID) -> objects.Coupon:
        ctx = info.context
        return _coupon(await ctx.listings.cancel(principal=ctx.principal(WRITE), listing_id=id))

    @strawberry.mutation(
        description="Owner: hand a share of the campaign's quantity to a verified partner"
    )
    async def create_allocation(
        self, info: CouponsInfo, campaign_id: UUID, partner_merchant_id: UUID, quantity: Long
    ) -> objects.Allocation:
        body = exchange_dto.AllocationIn.model_validate(
            {"partner_merchant_id": partner_merchant_id, "quantity": quantity}
        )
        ctx = info.context
        allocation = await ctx.allocations.create(
            principal=ctx.principal(WRITE),
            campaign_id=campaign_id,
            partner_merchant_id=body.partner_merchant_id,
            quantity=body.quantity,
        )
        return _allocation(allocation)

    @strawberry.mutation(
        description="Partner merchant's owner, staff, or partner client with coupons:write"
    )
    async def issue_from_allocation(
        self, info: CouponsInfo, id: UUID, user_id: UUID
    ) -> objects.Coupon:
        body = coupon_dto.IssueIn.model_validate({"user_id": user_id})
        ctx = info.context
        details = await ctx.allocations.issue(
            principal=ctx.principal(WRITE), allocation_id=id, user_id=body.user_id
        )
        return _coupon(details)
