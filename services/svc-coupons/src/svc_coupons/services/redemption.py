"""Redeeming coupons at a merchant's outlets: the dry run, the redemption itself, its
reversal, and voiding a coupon."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from core.auth import Principal
from core.clock import utcnow
from core.errors import Forbidden
from svc_coupons.services.access import OWNER_ONLY, has_role, may_redeem, may_validate, role_of
from svc_coupons.services.caller_limits import UNLIMITED, CallerLimits
from svc_coupons.services.coupons import find_coupon
from svc_coupons.services.data_model.campaigns import Campaign
from svc_coupons.services.data_model.coupons import (
    VOIDABLE,
    Coupon,
    CouponDetails,
    CouponStatus,
    RedemptionReceipt,
)
from svc_coupons.services.data_model.redemption import (
    RedemptionRequest,
    Refusal,
    refusal,
    status_refusal,
)
from svc_coupons.services.errors import (
    REFUSAL_ERRORS,
    AlreadyRedeemed,
    CouponNotFound,
    CouponVoid,
    NotRedeemed,
    ReversalWindowPassed,
)
from svc_coupons.services.events import coupon_event
from svc_coupons.services.ports import (
    CampaignStore,
    CouponStore,
    EventLog,
    MerchantDirectory,
    RedemptionStore,
)


@dataclass(frozen=True, slots=True)
class Validation:
    valid: bool
    reason: Refusal | None
    discount_amount: int | None


class RedemptionService:
    def __init__(
        self,
        *,
        campaigns: CampaignStore,
        coupons: CouponStore,
        redemptions: RedemptionStore,
        merchants: MerchantDirectory,
        events: EventLog,
        reversal_window: timedelta = timedelta(hours=24),
        caller_limits: CallerLimits = UNLIMITED,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._campaigns = campaigns
        self._coupons = coupons
        self._redemptions = redemptions
        self._merchants = merchants
        self._events = events
        self._reversal_window = reversal_window
        self._caller_limits = caller_limits
        self._clock = clock

    async def _coupon_for(
        self, principal: Principal, code: str, allowed: Callable[[Principal, UUID], bool]
    ) -> tuple[Coupon, Campaign]:
        """The coupon, if `allowed` lets the caller act on it. A caller who may know of it
        (a member of its merchant, its owner) gets 403; anyone else 404."""
        coupon, campaign = await find_coupon(self._coupons, code)
        if not allowed(principal, coupon.merchant_id):
            knows_it = role_of(principal, coupon.merchant_id) is not None or principal.is_user(
                coupon.owner_user_id
            )
            if knows_it:
                raise Forbidden("The caller's role for this merchant does not allow this")
            raise CouponNotFound()
        return coupon, campaign

    async def _refusal(
        self, coupon: Coupon, campaign: Campaign, request: RedemptionRequest, now: datetime
    ) -> Refusal | None:
        merchant = await self._merchants.merchant(coupon.merchant_id)
        outlets = (
            await self._merchants.outlet_ids(coupon.merchant_id, including=(request.outlet_id,))
            if merchant is not None and merchant.is_verified
            else frozenset()
        )
        return refusal(
            coupon=coupon,
            campaign=campaign,
            merchant=merchant,
            merchant_outlets=outlets,
            request=request,
            now=now,
        )

    async def validate(
        self, *, principal: Principal, code: str, outlet_id: UUID, order_amount: int | None
    ) -> Validation:
        """A dry run of redeem: what it would answer now, changing nothing."""
        self._caller_limits.lookup(principal)
        coupon, campaign = await self._coupon_for(principal, code, may_validate)
        reason = await self._refusal(
            coupon, campaign, RedemptionRequest(outlet_id, order_amount), self._clock()
        )
        if reason is not None:
            return Validation(valid=False, reason=reason, discount_amount=None)
        return Validation(
            valid=True, reason=None, discount_amount=campaign.terms.discount_for(order_amount)
        )

    async def redeem(
        self,
        *,
        principal: Principal,
        code: str,
        outlet_id: UUID,
        order_reference: str | None,
        order_amount: int | None,
    ) -> RedemptionReceipt:
        self._caller_limits.write(principal)
        coupon, campaign = await self._coupon_for(principal, code, may_redeem)
        now = self._clock()
        reason = await self._refusal(
            coupon, campaign, RedemptionRequest(outlet_id, order_amount), now
        )
        if reason is not None:
            raise REFUSAL_ERRORS[reason]()
        discount = campaign.terms.discount_for(order_amount)
        redemption_id = uuid4()
        event = coupon_event(
            "coupon.redeemed",
            coupon_id=coupon.id,
            actor=principal,
            data={
                "redemption_id": str(redemption_id),
                "campaign_id": str(campaign.id),
                "outlet_id": str(outlet_id),
                "order_reference": order_reference,
                "order_amount": order_amount,
                "discount_amount": discount,
            },
        )
        # The decision and its event in one statement: only one of any number of concurrent
        # redeems finds the coupon active, and only while its campaign is (checked in the
        # same statement, not just above).
        outcome = await self._redemptions.redeem(
            coupon=coupon,
            redemption_id=redemption_id,
            outlet_id=outlet_id,
            order_reference=order_reference,
            order_amount=order_amount,
            discount_amount=discount,
            redeemed_by=principal.subject,
            now=now,
            event=event,
        )
        if outcome is None:
            # Something changed since we looked: answer with what it is now. A coupon still
            # active lost to its campaign (paused or ended meanwhile).
            current = await self._coupons.by_code(coupon.code)
            if current is None:
                raise CouponNotFound()  # given or swapped away meanwhile: a new code now
            lost_to = status_refusal(current.status_at(now)) or Refusal.CAMPAIGN_NOT_ACTIVE
            raise REFUSAL_ERRORS[lost_to]()
        redeemed, redemption = outcome
        return RedemptionReceipt(
            redemption=redemption,
            coupon=CouponDetails(
                coupon=redeemed, campaign=campaign, status=redeemed.status_at(now)
            ),
        )

    async def reverse(self, *, principal: Principal, code: str, reason: str) -> CouponDetails:
        """Undo a redemption made in the last 24 hours: the coupon is active again."""
        coupon, campaign = await self._coupon_for(
            principal, code, lambda p, merchant_id: has_role(p, merchant_id, OWNER_ONLY)
        )
        now = self._clock()
        redemption = await self._redemptions.live_for(coupon.id)
        if coupon.stored_status is not CouponStatus.REDEEMED or redemption is None:
            raise NotRedeemed()
        if now - redemption.redeemed_at > self._reversal_window:
            raise ReversalWindowPassed()
        reinstated = await self._coupons.reinstate(coupon_id=coupon.id)
        if reinstated is None or not await self._redemptions.reverse(
            redemption_id=redemption.id, reversed_by=principal.subject, reason=reason, now=now
        ):
            raise NotRedeemed()
        await self._events.add(
            coupon_event(
                "coupon.redemption_reversed",
                coupon_id=coupon.id,
                actor=principal,
                data={"redemption_id": str(redemption.id), "reason": reason},
                version=reinstated.version,
            )
        )
        await self._campaigns.count_redemption(campaign_id=campaign.id, delta=-1)
        return CouponDetails(coupon=reinstated, campaign=campaign, status=reinstated.status_at(now))

    async def void(self, *, principal: Principal, code: str, reason: str) -> CouponDetails:
        coupon, campaign = await self._coupon_for(
            principal,
            code,
            lambda p, merchant_id: p.is_admin or has_role(p, merchant_id, OWNER_ONLY),
        )
        now = self._clock()
        outcome = await self._coupons.void(
            coupon_id=coupon.id, reason=reason, from_statuses=VOIDABLE, now=now
        )
        if outcome is None:
            current = await self._coupons.by_code(coupon.code)
            if current is not None and current.stored_status is CouponStatus.VOID:
                raise CouponVoid()
            raise AlreadyRedeemed("A redeemed coupon is reversed before it can be voided")
        voided, previous = outcome  # `previous`: what the update changed, not what we read
        await self._events.add(
            coupon_event(
                "coupon.voided",
                coupon_id=coupon.id,
                actor=principal,
                data={"reason": reason, "from": previous.value},
                version=voided.version,
            )
        )
        return CouponDetails(coupon=voided, campaign=campaign, status=voided.status_at(now))
