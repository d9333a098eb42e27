"""Whether a coupon can be redeemed here and now: one pure decision for validate and redeem."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from svc_coupons.services.data_model.campaigns import Campaign, CampaignStatus
from svc_coupons.services.data_model.coupons import Coupon, CouponStatus
from svc_coupons.services.data_model.merchants import Merchant


class Refusal(StrEnum):
    """Why a coupon is not redeemable; each value is the error code callers see."""

    ALREADY_REDEEMED = "already_redeemed"
    COUPON_EXPIRED = "coupon_expired"
    COUPON_VOID = "coupon_void"
    COUPON_LOCKED = "coupon_locked"
    COUPON_NOT_CLAIMED = "coupon_not_claimed"
    CAMPAIGN_NOT_ACTIVE = "campaign_not_active"
    MERCHANT_NOT_VERIFIED = "merchant_not_verified"
    OUTLET_NOT_ALLOWED = "outlet_not_allowed"
    MIN_SPEND_NOT_MET = "min_spend_not_met"


_BY_STATUS = {
    CouponStatus.REDEEMED: Refusal.ALREADY_REDEEMED,
    CouponStatus.EXPIRED: Refusal.COUPON_EXPIRED,
    CouponStatus.VOID: Refusal.COUPON_VOID,
    CouponStatus.RESERVED: Refusal.COUPON_LOCKED,
    CouponStatus.UNASSIGNED: Refusal.COUPON_NOT_CLAIMED,
}


def status_refusal(status: CouponStatus) -> Refusal | None:
    """Why a coupon in this status cannot be redeemed; None for an active one."""
    return _BY_STATUS.get(status)


@dataclass(frozen=True, slots=True)
class RedemptionRequest:
    outlet_id: UUID
    order_amount: int | None


def refusal(
    *,
    coupon: Coupon,
    campaign: Campaign,
    merchant: Merchant | None,
    merchant_outlets: frozenset[UUID],
    request: RedemptionRequest,
    now: datetime,
) -> Refusal | None:
    """The first reason the coupon cannot be redeemed, or None when it can."""
    by_status = status_refusal(coupon.status_at(now))
    if by_status is not None:
        return by_status
    if campaign.status is not CampaignStatus.ACTIVE or now < campaign.terms.starts_at:
        return Refusal.CAMPAIGN_NOT_ACTIVE
    if merchant is None or not merchant.is_verified:
        return Refusal.MERCHANT_NOT_VERIFIED
    allowed = campaign.terms.outlet_ids
    if request.outlet_id not in merchant_outlets or (allowed and request.outlet_id not in allowed):
        return Refusal.OUTLET_NOT_ALLOWED
    min_spend = campaign.terms.min_spend
    # A minimum spend cannot be checked without the order amount: it is then not met.
    if min_spend is not None and (request.order_amount is None or request.order_amount < min_spend):
        return Refusal.MIN_SPEND_NOT_MET
    return None
