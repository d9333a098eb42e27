"""Partner allocations (B2B distribution): a campaign's owner hands a share of its quantity
to a verified partner merchant, whose people or partner clients issue coupons from it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4

from core.auth import Principal
from core.clock import utcnow
from core.errors import Forbidden, InvalidInput
from core.pagination import Page, PageRequest
from svc_coupons.services.access import (
    OWNER_ONLY,
    OWNER_OR_STAFF,
    WRITE_SCOPE,
    MerchantRole,
    role_of,
)
from svc_coupons.services.campaigns import load_campaign, require_verified
from svc_coupons.services.data_model.coupons import CouponDetails
from svc_coupons.services.data_model.exchange import Allocation
from svc_coupons.services.errors import (
    AllocationExhausted,
    AllocationNotFound,
    CampaignNotActive,
    CampaignNotFound,
    InvalidPartner,
    LimitReached,
    SoldOut,
)
from svc_coupons.services.events import campaign_event, coupon_event
from svc_coupons.services.issuing import CODES_FROM, insert_with_fresh_code
from svc_coupons.services.ports import (
    AllocationStore,
    CampaignStore,
    CouponStore,
    EventLog,
    MerchantDirectory,
)
from svc_coupons.utils.codes import new_code

MAX_ALLOCATION = 1_000_000


def may_issue_for(principal: Principal, partner_merchant_id: UUID) -> bool:
    """The partner merchant's owner or staff, or its partner client with coupons:write."""
    role = role_of(principal, partner_merchant_id)
    if role in OWNER_OR_STAFF:
        return True
    return role is MerchantRole.PARTNER and principal.has_scope(WRITE_SCOPE)


class AllocationService:
    def __init__(
        self,
        *,
        allocations: AllocationStore,
        campaigns: CampaignStore,
        coupons: CouponStore,
        merchants: MerchantDirectory,
        events: EventLog,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._allocations = allocations
        self._campaigns = campaigns
        self._coupons = coupons
        self._merchants = merchants
        self._events = events
        self._clock = clock

    async def create(
        self, *, principal: Principal, campaign_id: UUID, partner_merchant_id: UUID, quantity: int
    ) -> Allocation:
        """The share is taken from the campaign's total quantity at once, by the statement
        that guards claims: never more than is left, whatever runs at the same time."""
        campaign = await load_campaign(self._campaigns, principal, campaign_id, roles=OWNER_ONLY)
        if not 1 <= quantity <= MAX_ALLOCATION:
            raise InvalidInput(f"quantity is 1 to {MAX_ALLOCATION}")
        if partner_merchant_id == campaign.merchant_id:
            raise InvalidPartner()
        if campaign.status not in CODES_FROM:
            raise CampaignNotActive("An ended campaign hands out no more shares")
        remaining = campaign.remaining()
        if remaining is not None and remaining < quantity:
            raise SoldOut(f"{remaining} left, {quantity} asked for")
        await require_verified(self._merchants, campaign.merchant_id)
        await require_verified(self._merchants, partner_merchant_id)
        allocation_id = uuid4()
        allocation = await self._allocations.create(
            allocation_id=allocation_id,
            campaign=campaign,
            partner_merchant_id=partner_merchant_id,
            quantity=quantity,
            created_by=principal.subject,
            now=self._clock(),
            statuses=CODES_FROM,
            event=campaign_event(
                "allocation.created",
                campaign_id=campaign.id,
                actor=principal,
                data={
                    "allocation_id": str(allocation_id),
                    "partner_merchant_id": str(partner_merchant_id),
                    "quantity": quantity,
                },
            ),
        )
        if allocation is None:
            current = await self._campaigns.get(campaign.id)
            if current is None or current.status not in CODES_FROM:
                raise CampaignNotActive("An ended campaign hands out no more shares")
            raise SoldOut(f"{current.remaining()} left, {quantity} asked for")
        return allocation

    async def _load(self, allocation_id: UUID) -> Allocation:
        allocation = await self._allocations.get(allocation_id)
        if allocation is None:
            raise AllocationNotFound()
        return allocation

    @staticmethod
    def _knows(principal: Principal, allocation: Allocation) -> bool:
        return principal.is_admin or any(
            role_of(principal, merchant) is not None
            for merchant in (allocation.merchant_id, allocation.partner_merchant_id)
        )

    async def get(self, *, principal: Principal, allocation_id: UUID) -> Allocation:
        """For the people of both merchants, and admins; 404 for anyone else."""
        allocation = await self._load(allocation_id)
        if not self._knows(principal, allocation):
            raise AllocationNotFound()
        return allocation

    async def issue(
        self, *, principal: Principal, allocation_id: UUID, user_id: UUID
    ) -> CouponDetails:
        """One coupon of the share to a customer, under the campaign's per-customer limit."""
        allocation = await self._load(allocation_id)
        if not may_issue_for(principal, allocation.partner_merchant_id):
            if self._knows(principal, allocation):
                raise Forbidden("Only the partner merchant issues from its allocation")
            raise AllocationNotFound()
        campaign = await self._campaigns.get(allocation.campaign_id)
        if campaign is None:
            raise CampaignNotFound()
        now = self._clock()
        if not campaign.is_claimable(now):
            raise CampaignNotActive()
        if allocation.remaining <= 0:
            raise AllocationExhausted()  # an early answer; the statement below decides
        await require_verified(self._merchants, campaign.merchant_id)
        await require_verified(self._merchants, allocation.partner_merchant_id)
        coupon_id = uuid4()
        event = coupon_event(
            "coupon.issued",
            coupon_id=coupon_id,
            actor=principal,
            data={
                "campaign_id": str(campaign.id),
                "merchant_id": str(campaign.merchant_id),
                "owner_user_id": str(user_id),
                "distributor_merchant_id": str(allocation.partner_merchant_id),
                "allocation_id": str(allocation.id),
            },
        )
        expires_at = campaign.terms.coupon_expiry(now)
        outcome = await self._allocations.issue(
            allocation=allocation,
            campaign=campaign,
            coupon_id=coupon_id,
            owner_user_id=user_id,
            code=new_code(),
            limit=campaign.terms.per_customer_limit,
            issued_at=now,
            expires_at=expires_at,
            event=event,
        )
        if outcome.limit_reached:
            raise LimitReached(
                f"At most {campaign.terms.per_customer_limit} per customer for this campaign"
            )
        if outcome.issued_count is None:
            current = await self._campaigns.get(campaign.id)
            if current is None or not current.is_claimable(now):
                raise CampaignNotActive()
            raise AllocationExhausted()
        coupon = outcome.coupon
        if coupon is None:  # the code was taken: the unit is ours, draw another code
            coupon = await insert_with_fresh_code(
                self._coupons,
                campaign=campaign,
                coupon_id=coupon_id,
                owner_user_id=user_id,
                issued_at=now,
                expires_at=expires_at,
                distributor_merchant_id=allocation.partner_merchant_id,
                allocation_id=allocation.id,
            )
            await self._events.add(dataclasses.replace(event, entity_version=coupon.version))
        return CouponDetails(coupon=coupon, campaign=campaign, status=coupon.status_at(now))

    async def of_campaign(
        self, *, principal: Principal, campaign_id: UUID, page: PageRequest
    ) -> Page[Allocation]:
        """A campaign's shares, for its merchant's owner and staff."""
        campaign = await load_campaign(
            self._campaigns, principal, campaign_id, roles=OWNER_OR_STAFF
        )
        return await self._allocations.of_campaign(campaign_id=campaign.id, page=page)

    async def of_partner(
        self, *, principal: Principal, partner_merchant_id: UUID, page: PageRequest
    ) -> Page[Allocation]:
        """The shares a partner merchant holds, for its people and partner clients."""
        if not principal.is_admin and role_of(principal, partner_merchant_id) is None:
            raise Forbidden("Only the partner merchant's people see its allocations")
        return await self._allocations.of_partner(
            partner_merchant_id=partner_merchant_id, page=page
        )
