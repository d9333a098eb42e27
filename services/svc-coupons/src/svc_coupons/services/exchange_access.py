"""What the exchange's services share: finding the caller's own coupon by its code, refusing
it by its status, and refusing a coupon that could no longer be used (its campaign ended,
its merchant suspended) from changing hands."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from core.auth import Principal
from core.errors import Forbidden
from svc_coupons.services.access import customer_id, may_read_coupon
from svc_coupons.services.campaigns import require_verified
from svc_coupons.services.coupons import find_coupon
from svc_coupons.services.data_model.campaigns import TRADING, Campaign
from svc_coupons.services.data_model.coupons import Coupon, CouponStatus
from svc_coupons.services.data_model.redemption import status_refusal
from svc_coupons.services.errors import REFUSAL_ERRORS, CampaignNotActive, CouponNotFound
from svc_coupons.services.ports import CouponStore, MerchantDirectory


async def own_coupon(
    coupons: CouponStore, principal: Principal, code: str
) -> tuple[Coupon, Campaign]:
    """The caller's coupon by its code. Its merchant's people may know it (403); anyone
    else may not (404)."""
    customer_id(principal)
    coupon, campaign = await find_coupon(coupons, code)
    if not principal.is_user(coupon.owner_user_id):
        if may_read_coupon(
            principal, merchant_id=coupon.merchant_id, owner_user_id=coupon.owner_user_id
        ):
            raise Forbidden("Only the coupon's owner can give or list it")
        raise CouponNotFound()
    return coupon, campaign


def require_active(coupon: Coupon, now: datetime) -> None:
    """409 with the code of the coupon's status unless it is active and unexpired."""
    refused = status_refusal(coupon.status_at(now))
    if refused is not None:
        raise REFUSAL_ERRORS[refused]()


def as_taken(coupon: Coupon) -> Coupon:
    """A held coupon judged as the active one it becomes when taken: by its expiry (or its
    void, which the merchant may still have made it)."""
    if coupon.stored_status is CouponStatus.RESERVED:
        return replace(coupon, stored_status=CouponStatus.ACTIVE)
    return coupon


def require_trading(*campaigns: Campaign) -> None:
    """409 `campaign_not_active` unless every campaign still lets its coupons change hands
    (active or paused). The statement that moves a coupon checks it again."""
    for campaign in campaigns:
        if campaign.status not in TRADING:
            raise CampaignNotActive(
                f"The campaign is {campaign.status.value}: its coupons no longer change hands"
            )


async def require_merchants_trading(merchants: MerchantDirectory, *coupons: Coupon) -> None:
    """409 `merchant_not_verified` when a coupon's merchant is suspended (or not shown).
    The merchant's status lives in svc-merchants, not in this database, so it is read right
    before the statement, as redemption reads it."""
    for merchant_id in dict.fromkeys(coupon.merchant_id for coupon in coupons):
        await require_verified(merchants, merchant_id)
