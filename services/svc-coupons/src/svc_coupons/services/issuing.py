"""Giving coupons out: claims, issue by staff, bulk codes and claiming a code.

Every limited count is decided by a conditional statement in the database. A claim's
customer count, campaign unit (from one of the campaign's counter shards), coupon, event and
Idempotency-Key answer are one statement that commits by itself, so what claims contend for
is locked only for that statement and its commit (services/svc-coupons README, "Where a
claim takes its unit").
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from uuid import UUID, uuid4

from core.auth import Principal
from core.clock import utcnow
from core.errors import InvalidInput
from core.idempotency import IdempotencyKeyInFlight
from core.logging import mask
from core.pagination import Page, PageRequest
from svc_coupons.services.access import OWNER_ONLY, OWNER_OR_STAFF, customer_id, role_of
from svc_coupons.services.caller_limits import UNLIMITED, CallerLimits
from svc_coupons.services.campaigns import load_campaign, require_verified
from svc_coupons.services.claim_refusals import ClaimRefusals
from svc_coupons.services.claims_in_flight import ClaimsInFlight
from svc_coupons.services.data_model.campaigns import Campaign, CampaignStatus
from svc_coupons.services.data_model.coupons import CodeRecord, Coupon, CouponDetails, CouponStatus
from svc_coupons.services.errors import (
    CampaignNotActive,
    CampaignNotFound,
    CodeAlreadyClaimed,
    CodeNotFound,
    CouponVoid,
    LimitReached,
    SoldOut,
)
from svc_coupons.services.events import campaign_event, coupon_event
from svc_coupons.services.ports import (
    CampaignStore,
    CodeExport,
    CouponStore,
    CustomerLimitStore,
    EventLog,
    MerchantDirectory,
)
from svc_coupons.utils.codes import is_well_formed, new_code, new_codes, normalise_code

# Codes for offline distribution may be printed before a campaign goes live.
CODES_FROM = frozenset({CampaignStatus.DRAFT, CampaignStatus.ACTIVE, CampaignStatus.PAUSED})
MAX_CODES = 100_000
# 2^59 codes: a collision is a once-in-many-lifetimes event, retried a few times at most.
CODE_ATTEMPTS = 5


async def insert_with_fresh_code(
    coupons: CouponStore,
    *,
    campaign: Campaign,
    coupon_id: UUID,
    owner_user_id: UUID,
    issued_at: datetime,
    expires_at: datetime,
    distributor_merchant_id: UUID | None = None,
    allocation_id: UUID | None = None,
) -> Coupon:
    """The coupon whose unit was taken but whose first code was not free, under a new one."""
    for _ in range(CODE_ATTEMPTS):
        coupon = await coupons.add_issued(
            campaign=campaign,
            coupon_id=coupon_id,
            owner_user_id=owner_user_id,
            code=new_code(),
            issued_at=issued_at,
            expires_at=expires_at,
            distributor_merchant_id=distributor_merchant_id,
            allocation_id=allocation_id,
        )
        if coupon is not None:
            return coupon
    raise RuntimeError("no free coupon code after several draws: is the generator broken?")


class IssuingService:
    def __init__(
        self,
        *,
        campaigns: CampaignStore,
        coupons: CouponStore,
        limits: CustomerLimitStore,
        merchants: MerchantDirectory,
        events: EventLog,
        code_export: CodeExport,
        caller_limits: CallerLimits = UNLIMITED,
        refusals: ClaimRefusals | None = None,
        in_flight: ClaimsInFlight | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._campaigns = campaigns
        self._coupons = coupons
        self._limits = limits
        self._merchants = merchants
        self._events = events
        self._code_export = code_export
        self._caller_limits = caller_limits
        self._refusals = refusals
        self._in_flight = in_flight
        self._clock = clock

    async def _claimable(self, principal: Principal, campaign_id: UUID) -> Campaign:
        campaign = await self._campaigns.get(campaign_id)
        # A draft is nobody's business but its merchant's.
        if campaign is None or (
            campaign.status is CampaignStatus.DRAFT
            and role_of(principal, campaign.merchant_id) is None
        ):
            raise CampaignNotFound()
        return campaign

    async def _why_not_taken(self, campaign_id: UUID, now: datetime) -> Exception:
        campaign = await self._campaigns.get(campaign_id)
        if campaign is None or not campaign.is_claimable(now):
            return CampaignNotActive()
        return SoldOut()

    async def _issue(
        self, *, campaign: Campaign, owner_user_id: UUID, actor: Principal, event_type: str
    ) -> CouponDetails:
        now = self._clock()
        if not campaign.is_claimable(now):
            raise CampaignNotActive()
        if campaign.remaining() == 0:
            raise SoldOut()  # an early answer; the conditional statement below decides
        await require_verified(self._merchants, campaign.merchant_id)
        coupon_id = uuid4()
        event = coupon_event(
            event_type,
            coupon_id=coupon_id,
            actor=actor,
            data={
                "campaign_id": str(campaign.id),
                "merchant_id": str(campaign.merchant_id),
                "owner_user_id": str(owner_user_id),
            },
        )
        expires_at = campaign.terms.coupon_expiry(now)
        # Everything the answer holds is chosen here, before the statement: the answer is
        # built first and rides in the statement that issues the coupon (its
        # Idempotency-Key's stored answer), so the statement is the request's one write.
        for _ in range(CODE_ATTEMPTS):
            coupon = Coupon(
                id=coupon_id,
                code=new_code(),
                campaign_id=campaign.id,
                merchant_id=campaign.merchant_id,
                owner_user_id=owner_user_id,
                stored_status=CouponStatus.ACTIVE,
                issued_at=now,
                expires_at=expires_at,
                redeemed_at=None,
            )
            answer = CouponDetails(coupon=coupon, campaign=campaign, status=coupon.status_at(now))
            # The decision, the coupon, its event and the key's answer in one statement.
            issue = functools.partial(
                self._coupons.issue,
                campaign=campaign,
                coupon_id=coupon_id,
                owner_user_id=owner_user_id,
                code=coupon.code,
                limit=campaign.terms.per_customer_limit,
                issued_at=now,
                expires_at=expires_at,
                event=event,
                answer=answer,
            )
            outcome = await issue()
            if outcome.busy:
                # Units are left, each held by another claim's statement this instant:
                # once more, waiting for one (it may be the last).
                outcome = await issue(wait=True)
            if not outcome.run_again:
                break
        else:
            raise RuntimeError("no free coupon code after several draws: is the generator broken?")
        if outcome.key_lost:
            raise IdempotencyKeyInFlight()
        if outcome.limit_reached:
            raise LimitReached(
                f"At most {campaign.terms.per_customer_limit} per customer for this campaign"
            )
        if outcome.issued_count is None or outcome.coupon is None:
            raise await self._why_not_taken(campaign.id, now)
        taken = dataclasses.replace(campaign, issued_count=outcome.issued_count)
        stored = dataclasses.replace(coupon, version=outcome.coupon.version)
        return CouponDetails(coupon=stored, campaign=taken, status=answer.status)

    async def claim(self, *, principal: Principal, campaign_id: UUID) -> CouponDetails:
        self._caller_limits.write(principal)
        user_id = customer_id(principal)
        # A flash sale's worst minutes: a campaign known to refuse every claim answers from
        # memory, before any statement; the rest wait for the database only a few at a time.
        if self._refusals is not None:
            known = self._refusals.refusal(campaign_id, self._clock())
            if known is not None:
                raise known
        if self._in_flight is None:
            return await self._claim(principal, campaign_id, user_id)
        with self._in_flight.slot(campaign_id):
            return await self._claim(principal, campaign_id, user_id)

    async def _claim(self, principal: Principal, campaign_id: UUID, user_id: UUID) -> CouponDetails:
        campaign = await self._claimable(principal, campaign_id)
        try:
            return await self._issue(
                campaign=campaign,
                owner_user_id=user_id,
                actor=principal,
                event_type="coupon.claimed",
            )
        except (SoldOut, CampaignNotActive) as refused:
            if self._refusals is not None:
                self._refusals.remember(campaign, refused, self._clock())
            raise

    async def issue(
        self, *, principal: Principal, campaign_id: UUID, user_id: UUID
    ) -> CouponDetails:
        campaign = await load_campaign(
            self._campaigns, principal, campaign_id, roles=OWNER_OR_STAFF
        )
        return await self._issue(
            campaign=campaign, owner_user_id=user_id, actor=principal, event_type="coupon.issued"
        )

    async def generate_codes(self, *, principal: Principal, campaign_id: UUID, count: int) -> int:
        """`count` unassigned codes, all or none, counted against the total quantity."""
        if not 1 <= count <= MAX_CODES:
            raise InvalidInput(f"count is 1 to {MAX_CODES}")
        campaign = await load_campaign(self._campaigns, principal, campaign_id, roles=OWNER_ONLY)
        if campaign.status not in CODES_FROM:
            raise CampaignNotActive("An ended campaign gets no more codes")
        remaining = campaign.remaining()
        if remaining is not None and remaining < count:
            raise SoldOut(f"{remaining} left, {count} asked for")
        now = self._clock()
        for _ in range(CODE_ATTEMPTS):
            if await self._coupons.add_unassigned(
                campaign=campaign, codes=new_codes(count), now=now
            ):
                break
        else:
            raise RuntimeError("no free batch of coupon codes after several draws")
        await self._events.add(
            campaign_event(
                "codes.generated",
                campaign_id=campaign.id,
                actor=principal,
                data={"count": count},
            )
        )
        if (
            await self._campaigns.take_units(
                campaign_id=campaign.id, count=count, statuses=CODES_FROM
            )
            is None
        ):
            refreshed = await self._campaigns.get(campaign.id)
            if refreshed is None or refreshed.status not in CODES_FROM:
                raise CampaignNotActive("An ended campaign gets no more codes")
            raise SoldOut(f"{refreshed.remaining()} left, {count} asked for")
        return count

    async def list_codes(
        self, *, principal: Principal, campaign_id: UUID, page: PageRequest
    ) -> Page[CodeRecord]:
        campaign = await load_campaign(self._campaigns, principal, campaign_id, roles=OWNER_ONLY)
        return await self._coupons.unassigned_codes(campaign_id=campaign.id, page=page)

    async def export_codes(
        self, *, principal: Principal, campaign_id: UUID
    ) -> AsyncIterator[list[str]]:
        """The codes in batches; the caller is checked now, the codes read as it streams."""
        campaign = await load_campaign(self._campaigns, principal, campaign_id, roles=OWNER_ONLY)
        return self._code_export.batches(campaign.id)

    @staticmethod
    def _check_claimable_code(coupon: Coupon) -> None:
        """A code voided before anyone claimed it is void; any other that is not unassigned
        has been claimed (whatever became of it since)."""
        if coupon.stored_status is CouponStatus.UNASSIGNED:
            return
        if coupon.stored_status is CouponStatus.VOID and coupon.owner_user_id is None:
            raise CouponVoid("This code was voided before anyone claimed it")
        raise CodeAlreadyClaimed()

    async def claim_code(self, *, principal: Principal, code: str) -> CouponDetails:
        self._caller_limits.write(principal)
        user_id = customer_id(principal)
        normalised = normalise_code(code)
        found = (
            await self._coupons.with_campaign(normalised) if is_well_formed(normalised) else None
        )
        if found is None:
            raise CodeNotFound(f"No coupon has the code {mask(normalised)}")
        coupon, campaign = found
        self._check_claimable_code(coupon)
        now = self._clock()
        if not campaign.is_claimable(now):
            raise CampaignNotActive()
        await require_verified(self._merchants, campaign.merchant_id)
        if not await self._limits.take(
            campaign_id=campaign.id, user_id=user_id, limit=campaign.terms.per_customer_limit
        ):
            raise LimitReached(
                f"At most {campaign.terms.per_customer_limit} per customer for this campaign"
            )
        # The decision, in one statement: the code still unassigned and its campaign still
        # active and running (it may have been paused or ended since the read above).
        claimed = await self._coupons.assign(
            coupon_id=coupon.id,
            owner_user_id=user_id,
            issued_at=now,
            expires_at=campaign.terms.coupon_expiry(now),
        )
        if claimed is None:
            current = await self._coupons.by_code(normalised)
            if current is None:
                raise CodeAlreadyClaimed()
            self._check_claimable_code(current)  # claimed or voided meanwhile
            raise CampaignNotActive()  # still unassigned: its campaign stopped
        await self._events.add(
            coupon_event(
                "coupon.claimed",
                coupon_id=claimed.id,
                actor=principal,
                data={
                    "campaign_id": str(campaign.id),
                    "merchant_id": str(campaign.merchant_id),
                    "owner_user_id": str(user_id),
                    "by_code": True,
                },
                version=claimed.version,
            )
        )
        return CouponDetails(coupon=claimed, campaign=campaign, status=claimed.status_at(now))
