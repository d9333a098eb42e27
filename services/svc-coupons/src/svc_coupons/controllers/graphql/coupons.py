"""Campaigns, coupons and codes in GraphQL: the REST routes' service calls, one field per
REST operation (a mutation keeps the operation's name, a read is its noun), with the same
checks (the DTOs validate arguments) and the same error codes in `extensions.code`."""

from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.types import Info

from core.pagination import checked_page
from core.web.graphql import given_fields
from svc_coupons.controllers.dto import campaigns as campaign_dto
from svc_coupons.controllers.dto import coupons as coupon_dto
from svc_coupons.controllers.graphql import objects
from svc_coupons.controllers.graphql.context import CouponsContext
from svc_coupons.controllers.scopes import READ, REDEEM, VALIDATE, WRITE
from svc_coupons.schemas.numbers import Long
from svc_coupons.services.data_model.campaigns import Campaign, CampaignAction, CampaignStatus
from svc_coupons.services.data_model.coupons import CouponDetails, WalletFilter

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
        status: CampaignStatus | None = None,
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

    @strawberry.field(description="Owner, staff: the campaign's numbers")
    async def campaign_stats(self, info: CouponsInfo, id: UUID) -> objects.CampaignStats:
        ctx = info.context
        stats = await ctx.campaigns.stats(principal=ctx.principal(READ), campaign_id=id)
        return objects.CampaignStats.from_pydantic(campaign_dto.CampaignStats.of(stats))

    @strawberry.field(description="The caller's coupons: status active (usable) or history")
    async def wallet(
        self,
        info: CouponsInfo,
        status: WalletFilter | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> objects.Page[objects.Coupon]:
        ctx = info.context
        page = await ctx.coupons.wallet(
            principal=ctx.principal(READ), status=status, page=checked_page(limit, cursor)
        )
        return objects.Page(items=[_coupon(c) for c in page.items], next_cursor=page.next_cursor)

    @strawberry.field(description="A coupon by its code: its owner, its merchant's staff")
    async def coupon(self, info: CouponsInfo, code: str) -> objects.Coupon:
        ctx = info.context
        return _coupon(await ctx.coupons.lookup(principal=ctx.principal(READ), code=code))

    @strawberry.field(
        description="Coupon owner, merchant members, admin: its audit events, oldest first"
    )
    async def coupon_history(
        self, info: CouponsInfo, code: str, limit: int = 20, cursor: str | None = None
    ) -> objects.Page[objects.HistoryEvent]:
        ctx = info.context
        page = await ctx.coupons.history(
            principal=ctx.principal(READ), code=code, page=checked_page(limit, cursor)
        )
        return objects.Page(
            items=[
                objects.HistoryEvent.from_pydantic(coupon_dto.HistoryEvent.of(e))
                for e in page.items
            ],
            next_cursor=page.next_cursor,
        )

    @strawberry.field(description="Owner: the campaign's unassigned codes")
    async def codes(
        self, info: CouponsInfo, campaign_id: UUID, limit: int = 20, cursor: str | None = None
    ) -> objects.Page[objects.Code]:
        ctx = info.context
        page = await ctx.issuing.list_codes(
            principal=ctx.principal(READ), campaign_id=campaign_id, page=checked_page(limit, cursor)
        )
        return objects.Page(
            items=[objects.Code.from_pydantic(coupon_dto.Code.of(c)) for c in page.items],
            next_cursor=page.next_cursor,
        )


@strawberry.type
class CouponsMutation:
    @strawberry.mutation(description="Owner: a new campaign, in draft")
    async def create_campaign(
        self, info: CouponsInfo, input: objects.CampaignInput
    ) -> objects.Campaign:
        body = input.to_pydantic()
        ctx = info.context
        campaign = await ctx.campaigns.create(
            principal=ctx.principal(WRITE), merchant_id=body.merchant_id, terms=body.terms()
        )
        return _campaign(campaign)

    @strawberry.mutation(
        description="Owner: change a draft. Fields left out stay as they are; only "
        "description, currency, minSpend, totalQuantity and validityDays may be null"
    )
    async def update_campaign(
        self, info: CouponsInfo, id: UUID, input: objects.CampaignPatch
    ) -> objects.Campaign:
        body = campaign_dto.CampaignPatch.model_validate(given_fields(input))
        ctx = info.context
        campaign = await ctx.campaigns.update(
            principal=ctx.principal(WRITE), campaign_id=id, changes=body.changes()
        )
        return _campaign(campaign)

    @staticmethod
    async def _transition(info: CouponsInfo, id: UUID, action: CampaignAction) -> objects.Campaign:
        ctx = info.context
        campaign = await ctx.campaigns.transition(
            principal=ctx.principal(WRITE), campaign_id=id, action=action
        )
        return _campaign(campaign)

    @strawberry.mutation(description="Owner: draft -> active")
    async def publish_campaign(self, info: CouponsInfo, id: UUID) -> objects.Campaign:
        return await CouponsMutation._transition(info, id, CampaignAction.PUBLISH)

    @strawberry.mutation(description="Owner: active -> paused")
    async def pause_campaign(self, info: CouponsInfo, id: UUID) -> objects.Campaign:
        return await CouponsMutation._transition(info, id, CampaignAction.PAUSE)

    @strawberry.mutation(description="Owner: paused -> active")
    async def resume_campaign(self, info: CouponsInfo, id: UUID) -> objects.Campaign:
        return await CouponsMutation._transition(info, id, CampaignAction.RESUME)

    @strawberry.mutation(description="Owner: active or paused -> ended")
    async def end_campaign(self, info: CouponsInfo, id: UUID) -> objects.Campaign:
        return await CouponsMutation._transition(info, id, CampaignAction.END)

    @strawberry.mutation(description="Customer: take a coupon of an active campaign")
    async def claim_coupon(self, info: CouponsInfo, campaign_id: UUID) -> objects.Coupon:
        ctx = info.context
        return _coupon(
            await ctx.issuing.claim(principal=ctx.principal(WRITE), campaign_id=campaign_id)
        )

    @strawberry.mutation(description="Owner, staff: give a customer a coupon")
    async def issue_coupon(
        self, info: CouponsInfo, campaign_id: UUID, user_id: UUID
    ) -> objects.Coupon:
        body = coupon_dto.IssueIn.model_validate({"user_id": user_id})
        ctx = info.context
        details = await ctx.issuing.issue(
            principal=ctx.principal(WRITE), campaign_id=campaign_id, user_id=body.user_id
        )
        return _coupon(details)

    @strawberry.mutation(
        description="Owner: unassigned codes for offline distribution, all or none"
    )
    async def generate_codes(
        self, info: CouponsInfo, campaign_id: UUID, count: int
    ) -> objects.GeneratedCodes:
        body = coupon_dto.CodesIn.model_validate({"count": count})
        ctx = info.context
        generated = await ctx.issuing.generate_codes(
            principal=ctx.principal(WRITE), campaign_id=campaign_id, count=body.count
        )
        return objects.GeneratedCodes.from_pydantic(coupon_dto.GeneratedCodes(generated=generated))

    @strawberry.mutation(description="Customer: claim an unassigned code")
    async def claim_code(self, info: CouponsInfo, code: str) -> objects.Coupon:
        body = coupon_dto.ClaimCodeIn.model_validate({"code": code})
        ctx = info.context
        return _coupon(await ctx.issuing.claim_code(principal=ctx.principal(WRITE), code=body.code))

    @strawberry.mutation(
        description="Owner, staff, partner client: would redeem succeed? Changes nothing"
    )
    async def validate_coupon(
        self, info: CouponsInfo, code: str, outlet_id: UUID, order_amount: Long | None = None
    ) -> objects.Validation:
        body = coupon_dto.ValidateIn.model_validate(
            {"outlet_id": outlet_id, "order_amount": order_amount}
        )
        ctx = info.context
        validation = await ctx.redemptions.validate(
            principal=ctx.principal(VALIDATE),
            code=code,
            outlet_id=body.outlet_id,
            order_amount=body.order_amount,
        )
        return objects.Validation.from_pydantic(coupon_dto.Validation.of(validation))

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
            principal=ctx.principal(REDEEM),
            code=code,
            outlet_id=body.outlet_id,
            order_reference=body.order_reference,
            order_amount=body.order_amount,
        )
        return objects.Redemption.from_pydantic(coupon_dto.Redemption.of(receipt))

    @strawberry.mutation(description="Owner: undo a redemption of the last 24 hours")
    async def reverse_redemption(self, info: CouponsInfo, code: str, reason: str) -> objects.Coupon:
        body = coupon_dto.ReasonIn.model_validate({"reason": reason})
        ctx = info.context
        details = await ctx.redemptions.reverse(
            principal=ctx.principal(REDEEM), code=code, reason=body.reason
        )
        return _coupon(details)

    @strawberry.mutation(description="Owner, admin: make the coupon unusable for good")
    async def void_coupon(self, info: CouponsInfo, code: str, reason: str) -> objects.Coupon:
        body = coupon_dto.ReasonIn.model_validate({"reason": reason})
        ctx = info.context
        details = await ctx.redemptions.void(
            principal=ctx.principal(WRITE), code=code, reason=body.reason
        )
        return _coupon(details)
