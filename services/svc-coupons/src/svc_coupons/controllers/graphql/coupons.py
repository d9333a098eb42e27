"""Campaigns, coupons and codes in GraphQL: the REST routes' service calls, one field per
REST operation (a mutation keeps the operation's name, a read is its noun), with the same
checks (the DTOs validate arguments) and the same error codes in `extensions.code`."""

from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.types import Info

from core.pagination import checked_page
from svc_coupons.controllers.dto import campaigns as campaign_dto
from svc_coupons.controllers.dto import coupons as coupon_dto
from svc_coupons.controllers.graphql import objects
from svc_coupons.controllers.graphql.context import CouponsContext
from svc_coupons.schemas.numbers import Long
from svc_coupons.services.data_model.campaigns import Campaign, CampaignAction
from svc_coupons.services.data_model.coupons import CouponDetails

CouponsInfo = Info[CouponsContext, None]


def _campaign(campaign: Campaign) -> objects.Campaign:
    return objects.Campaign.from_pydantic(campaign_dto.Campaign.of(campaign))


def _coupon(details: CouponDetails) -> objects.Coupon:
    return objects.Coupon.from_pydantic(coupon_dto.Coupon.of(details))


@strawberry.type
class CouponsQuery:
    @strawberry.field(description="A campaign: anyone for active ones, members for any")
    async def campaign(self, info: CouponsInfo, id: UUID) -> objects.Campaign:
        ctx = info.context
        return _campaign(
            await ctx.campaigns.get(principal=ctx.optional_principal(), campaign_id=id)
        )

    @strawberry.field(description="Active campaigns; members also ask for other statuses")
    async def campaigns(
        self,
        info: CouponsInfo,
        merchant_id: UUID | None = None,
        status: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> objects.Page[objects.Campaign]:
        ctx = info.context
        page = await ctx.campaigns.list(
            principal=ctx.optional_principal(),
            merchant_id=merchant_id,
            status=status,
            page=checked_page(limit, cursor),
        )
        return objects.Page(items=[_campaign(c) for c in page.items], next_cursor=page.next_cursor)

    @strawberry.field(description="The caller's coupons: status active (usable) or history")
    async def wallet(
        self,
        info: CouponsInfo,
        status: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> objects.Page[objects.Coupon]:
        ctx = info.context
        page = await ctx.coupons.wallet(
            principal=ctx.principal(), status=status, page=checked_page(limit, cursor)
        )
        return objects.Page(items=[_coupon(c) for c in page.items], next_cursor=page.next_cursor)

    @strawberry.field(description="A coupon by its code: its owner, its merchant's staff")
    async def coupon(self, info: CouponsInfo, code: str) -> objects.Coupon:
        ctx = info.context
        return _coupon(await ctx.coupons.lookup(principal=ctx.principal(), code=code))


@strawberry.type
class CouponsMutation:
    @strawberry.mutation(description="Owner: a new campaign, in draft")
    async def create_campaign(
        self, info: CouponsInfo, input: objects.CampaignInput
    ) -> objects.Campaign:
        body = input.to_pydantic()
        ctx = info.context
        campaign = await ctx.campaigns.create(
            principal=ctx.principal(), merchant_id=body.merchant_id, terms=body.terms()
        )
        return _campaign(campaign)

    @staticmethod
    async def _transition(info: CouponsInfo, id: UUID, action: CampaignAction) -> objects.Campaign:
        ctx = info.context
        campaign = await ctx.campaigns.transition(
            principal=ctx.principal(), campaign_id=id, action=action
        )
        return _campaign(campaign)

    @strawberry.mutation(description="Owner: draft -> active")
    async def publish_campaign(self, info: CouponsInfo, id: UUID) -> objects.Campaign:
        return await CouponsMutation._transition(info, id, CampaignAction.PUBLISH)

    @strawberry.mutation(description="Customer: take a coupon of an active campaign")
    async def claim_coupon(self, info: CouponsInfo, campaign_id: UUID) -> objects.Coupon:
        ctx = info.context
        return _coupon(await ctx.issuing.claim(principal=ctx.principal(), campaign_id=campaign_id))

    @strawberry.mutation(
        description="Owner, staff, partner client with coupons:redeem: use the coupon"
    )
    async def redeem_coupon(
        self,
        info: CouponsInfo,
        code: str,
        outlet_id: UUID,
        order_amount: Long | None = None,
        order_reference: str | None = None,
    ) -> objects.Redemption:
        body = coupon_dto.RedeemIn.model_validate(
            {
                "outlet_id": outlet_id,
                "order_amount": order_amount,
                "order_reference": order_reference,
            }
        )
        ctx = info.context
        receipt = await ctx.redemptions.redeem(
            principal=ctx.principal(),
            code=code,
            outlet_id=body.outlet_id,
            order_reference=body.order_reference,
            order_amount=body.order_amount,
        )
        return objects.Redemption.from_pydantic(coupon_dto.Redemption.of(receipt))
