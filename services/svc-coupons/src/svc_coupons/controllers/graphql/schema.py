"""svc-coupons's GraphQL schema: the same service calls as the REST controllers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.config import PlatformSettings
from core.pagination import checked_page
from core.web.graphql import build_schema, graphql_router
from svc_coupons.controllers.graphql.context import CouponsContext, get_context
from svc_coupons.controllers.graphql.exchange import ExchangeMutation, ExchangeQuery
from svc_coupons.controllers.graphql.types import (
    CampaignInput,
    CampaignPage,
    CampaignType,
    CouponPage,
    CouponType,
    RedemptionType,
)
from svc_coupons.schemas.graphql_scalars import SCALARS, Long
from svc_coupons.services.data_model.campaigns import CampaignAction

CouponsInfo = Info[CouponsContext, None]


@strawberry.type
class Query(ExchangeQuery):
    @strawberry.field(description="A campaign: anyone for active ones, members for any")
    async def campaign(self, info: CouponsInfo, id: UUID) -> CampaignType:
        ctx = info.context
        return CampaignType.of(
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
    ) -> CampaignPage:
        ctx = info.context
        page = await ctx.campaigns.list(
            principal=ctx.optional_principal(),
            merchant_id=merchant_id,
            status=status,
            page=checked_page(limit, cursor),
        )
        return CampaignPage(
            items=[CampaignType.of(c) for c in page.items], next_cursor=page.next_cursor
        )

    @strawberry.field(description="The caller's coupons: status active (usable) or history")
    async def wallet(
        self,
        info: CouponsInfo,
        status: str | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> CouponPage:
        ctx = info.context
        page = await ctx.coupons.wallet(
            principal=ctx.principal(), status=status, page=checked_page(limit, cursor)
        )
        for entry in page.items:
            # The wallet read its campaigns in one query; the loader need not read them again.
            ctx.campaign_loader.prime(entry.campaign.id, entry.campaign)
        return CouponPage(
            items=[CouponType.of(entry) for entry in page.items], next_cursor=page.next_cursor
        )

    @strawberry.field(description="A coupon by its code: its owner, its merchant's staff")
    async def coupon(self, info: CouponsInfo, code: str) -> CouponType:
        ctx = info.context
        return CouponType.of(await ctx.coupons.lookup(principal=ctx.principal(), code=code))


@strawberry.type
class Mutation(ExchangeMutation):
    @strawberry.mutation
    async def create_campaign(self, info: CouponsInfo, input: CampaignInput) -> CampaignType:
        from svc_coupons.controllers.dto.campaigns import CampaignIn

        body = CampaignIn.model_validate(strawberry.asdict(input))
        ctx = info.context
        campaign = await ctx.campaigns.create(
            principal=ctx.principal(), merchant_id=body.merchant_id, terms=body.terms()
        )
        return CampaignType.of(campaign)

    @strawberry.mutation
    async def publish_campaign(self, info: CouponsInfo, id: UUID) -> CampaignType:
        ctx = info.context
        campaign = await ctx.campaigns.transition(
            principal=ctx.principal(), campaign_id=id, action=CampaignAction.PUBLISH
        )
        return CampaignType.of(campaign)

    @strawberry.mutation
    async def claim_coupon(self, info: CouponsInfo, campaign_id: UUID) -> CouponType:
        ctx = info.context
        details = await ctx.issuing.claim(principal=ctx.principal(), campaign_id=campaign_id)
        return CouponType.of(details)

    @strawberry.mutation
    async def redeem_coupon(
        self,
        info: CouponsInfo,
        code: str,
        outlet_id: UUID,
        order_amount: Long | None = None,
        order_reference: str | None = None,
    ) -> RedemptionType:
        from svc_coupons.controllers.dto.coupons import RedeemIn

        body = RedeemIn.model_validate(
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
        return RedemptionType.of(receipt)


def router(settings: PlatformSettings) -> Any:
    schema = build_schema(query=Query, mutation=Mutation, settings=settings, scalars=SCALARS)
    # Their answer holds a claim token, which no table keeps (answer_holds_a_secret).
    return graphql_router(
        schema, get_context, secret_answer_fields=frozenset({"giveCoupon", "rotateClaimToken"})
    )
