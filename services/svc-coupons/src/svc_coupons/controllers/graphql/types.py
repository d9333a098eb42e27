from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry
from strawberry.types import Info

from svc_coupons.controllers.graphql.context import CouponsContext
from svc_coupons.schemas.graphql_scalars import Long
from svc_coupons.services.data_model.campaigns import Campaign
from svc_coupons.services.data_model.coupons import CouponDetails, RedemptionReceipt

# Amounts (minor units) and counts are Long: GraphQL's Int is 32 bits.


@strawberry.type
class CampaignType:
    id: UUID
    merchant_id: UUID
    status: str
    title: str
    description: str | None
    discount_type: str
    discount_value: Long
    currency: str | None
    min_spend: Long | None
    total_quantity: Long | None
    per_customer_limit: Long
    starts_at: datetime
    ends_at: datetime
    validity_days: int | None
    outlet_ids: list[UUID]
    transferable: bool
    tradable: bool
    issued_count: Long
    redeemed_count: Long
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignType:
        terms = campaign.terms
        return cls(
            id=campaign.id,
            merchant_id=campaign.merchant_id,
            status=campaign.status.value,
            title=terms.title,
            description=terms.description,
            discount_type=terms.discount_type.value,
            discount_value=terms.discount_value,
            currency=terms.currency,
            min_spend=terms.min_spend,
            total_quantity=terms.total_quantity,
            per_customer_limit=terms.per_customer_limit,
            starts_at=terms.starts_at,
            ends_at=terms.ends_at,
            validity_days=terms.validity_days,
            outlet_ids=list(terms.outlet_ids),
            transferable=terms.transferable,
            tradable=terms.tradable,
            issued_count=campaign.issued_count,
            redeemed_count=campaign.redeemed_count,
            created_at=campaign.created_at,
            updated_at=campaign.updated_at,
        )


@strawberry.type
class CampaignPage:
    items: list[CampaignType]
    next_cursor: str | None


@strawberry.type(description="What a coupon shows of its campaign: REST's campaign summary")
class CampaignSummaryType:
    id: UUID
    merchant_id: UUID
    title: str
    status: str
    discount_type: str
    discount_value: Long
    currency: str | None
    min_spend: Long | None
    ends_at: datetime
    outlet_ids: list[UUID]
    transferable: bool
    tradable: bool

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignSummaryType:
        terms = campaign.terms
        return cls(
            id=campaign.id,
            merchant_id=campaign.merchant_id,
            title=terms.title,
            status=campaign.status.value,
            discount_type=terms.discount_type.value,
            discount_value=terms.discount_value,
            currency=terms.currency,
            min_spend=terms.min_spend,
            ends_at=terms.ends_at,
            outlet_ids=list(terms.outlet_ids),
            transferable=terms.transferable,
            tradable=terms.tradable,
        )


@strawberry.type
class CouponType:
    id: UUID
    code: str
    campaign_id: UUID
    merchant_id: UUID
    owner_user_id: UUID | None
    status: str
    issued_at: datetime | None
    expires_at: datetime | None
    redeemed_at: datetime | None

    @strawberry.field(
        description="Its campaign's summary (as REST shows it on a coupon), batch-loaded"
    )
    async def campaign(self, info: Info[CouponsContext, None]) -> CampaignSummaryType | None:
        # Whoever may read the coupon may read this summary, whatever the campaign's
        # status; its counts and quantities stay with `campaign(id)` and its visibility.
        campaign = await info.context.campaign_loader.load(self.campaign_id)
        return CampaignSummaryType.of(campaign) if campaign else None

    @classmethod
    def of(cls, details: CouponDetails) -> CouponType:
        coupon = details.coupon
        return cls(
            id=coupon.id,
            code=coupon.code,
            campaign_id=coupon.campaign_id,
            merchant_id=coupon.merchant_id,
            owner_user_id=coupon.owner_user_id,
            status=details.status.value,
            issued_at=coupon.issued_at,
            expires_at=coupon.expires_at,
            redeemed_at=coupon.redeemed_at,
        )


@strawberry.type
class CouponPage:
    items: list[CouponType]
    next_cursor: str | None


@strawberry.type
class RedemptionType:
    redemption_id: UUID
    coupon: CouponType
    discount_amount: Long | None
    redeemed_at: datetime
    outlet_id: UUID
    order_reference: str | None
    order_amount: Long | None

    @classmethod
    def of(cls, receipt: RedemptionReceipt) -> RedemptionType:
        redemption = receipt.redemption
        return cls(
            redemption_id=redemption.id,
            coupon=CouponType.of(receipt.coupon),
            discount_amount=redemption.discount_amount,
            redeemed_at=redemption.redeemed_at,
            outlet_id=redemption.outlet_id,
            order_reference=redemption.order_reference,
            order_amount=redemption.order_amount,
        )


@strawberry.input
class CampaignInput:
    merchant_id: UUID
    title: str
    discount_type: str
    discount_value: Long
    starts_at: datetime
    ends_at: datetime
    description: str | None = None
    currency: str | None = None
    min_spend: Long | None = None
    total_quantity: Long | None = None
    per_customer_limit: Long = 1
    validity_days: int | None = None
    outlet_ids: list[UUID] = strawberry.field(default_factory=list)
    transferable: bool = True
    tradable: bool = True
