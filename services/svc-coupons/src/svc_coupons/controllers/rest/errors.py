"""Errors several routes share, for their OpenAPI `responses` (core.web.openapi.problems)."""

from __future__ import annotations

from svc_coupons.services.errors import (
    REFUSAL_ERRORS,
    TERMS_ERRORS,
    AlreadyRedeemed,
    CampaignNotActive,
    CouponExpired,
    CouponLocked,
    CouponVoid,
    MerchantNotVerified,
    MerchantsUnavailable,
)

# Why a redemption is refused (409), in the order they are checked.
REDEMPTION_REFUSALS = tuple(REFUSAL_ERRORS.values())
# Why a coupon cannot change hands: it is not active (409).
NOT_ACTIVE_COUPON = (CouponLocked, AlreadyRedeemed, CouponExpired, CouponVoid)
# A campaign's terms that do not hold (422).
TERMS_VIOLATIONS = tuple(TERMS_ERRORS.values())
# What asking svc-merchants whether a merchant is verified can answer.
MERCHANT_CHECK = (MerchantNotVerified, MerchantsUnavailable)
# Why a coupon that could no longer be used does not change hands: its campaign ended, its
# merchant is suspended (409), or svc-merchants cannot say (503).
DEAD_COUPON = (CampaignNotActive, *MERCHANT_CHECK)
