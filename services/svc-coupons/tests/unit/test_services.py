"""svc-coupons's services against in-memory fakes: the rules and their order, no database."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Collection
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest

from core.auth import Membership, Principal
from core.errors import Forbidden
from core.events import DomainEvent
from core.pagination import Page, PageRequest
from svc_coupons.services.campaigns import CampaignService
from svc_coupons.services.data_model.campaigns import (
    Campaign,
    CampaignAction,
    CampaignStatus,
    CampaignTerms,
    DiscountType,
)
from svc_coupons.services.data_model.coupons import (
    Coupon,
    CouponStatus,
    IssueOutcome,
    Redemption,
)
from svc_coupons.services.data_model.merchants import Merchant
from svc_coupons.services.errors import (
    AlreadyRedeemed,
    CampaignNotActive,
    DiscountTooHigh,
    InvalidTransition,
    LimitReached,
    MerchantNotVerified,
    ReversalWindowPassed,
    SoldOut,
)
from svc_coupons.services.issuing import IssuingService
from svc_coupons.services.redemption import RedemptionService

T = TypeVar("T")
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def principal(user_id: UUID | None = None, **roles: UUID) -> Principal:
    return Principal(
        subject=str(user_id or uuid4()),
        client_id="test",
        roles=frozenset({"customer"}),
        scopes=frozenset({"coupons:redeem"}),
        memberships=tuple(Membership(merchant_id, role) for role, merchant_id in roles.items()),
    )


def offer(**overrides: Any) -> CampaignTerms:
    base = CampaignTerms(
        title="Ten off",
        description=None,
        discount_type=DiscountType.PERCENTAGE,
        discount_value=10,
        currency=None,
        min_spend=None,
        total_quantity=None,
        per_customer_limit=1,
        starts_at=NOW - timedelta(days=1),
        ends_at=NOW + timedelta(days=30),
        validity_days=None,
        outlet_ids=(),
        transferable=True,
        tradable=True,
    )
    return dataclasses.replace(base, **overrides)


class FakeCampaigns:
    def __init__(self) -> None:
        self.rows: dict[UUID, Campaign] = {}
        self.taken: list[int] = []
        self.refuse_take = False

    def add(
        self, merchant_id: UUID, status: CampaignStatus = CampaignStatus.ACTIVE, **terms: Any
    ) -> Campaign:
        campaign = Campaign(uuid4(), merchant_id, offer(**terms), status, 0, 0, NOW, NOW)
        self.rows[campaign.id] = campaign
        return campaign

    async def create(
        self, *, merchant_id: UUID, terms: CampaignTerms, created_by: str, now: datetime
    ) -> Campaign:
        campaign = Campaign(uuid4(), merchant_id, terms, CampaignStatus.DRAFT, 0, 0, now, now)
        self.rows[campaign.id] = campaign
        return campaign

    async def get(self, campaign_id: UUID) -> Campaign | None:
        return self.rows.get(campaign_id)

    async def get_for_update(self, campaign_id: UUID) -> Campaign | None:
        return self.rows.get(campaign_id)

    async def list(
        self, *, merchant_id: UUID | None, status: CampaignStatus, page: PageRequest
    ) -> Page[Campaign]:
        found = [
            c
            for c in self.rows.values()
            if c.status is status and merchant_id in (None, c.merchant_id)
        ]
        return Page(items=found[: page.limit], next_cursor=None)

    async def get_many(self, campaign_ids: Collection[UUID]) -> list[Campaign]:
        return [self.rows[i] for i in campaign_ids if i in self.rows]

    async def set_status(
        self, *, campaign_id: UUID, status: CampaignStatus, now: datetime
    ) -> Campaign:
        self.rows[campaign_id] = dataclasses.replace(self.rows[campaign_id], status=status)
        return self.rows[campaign_id]

    async def take_units(
        self,
        *,
        campaign_id: UUID,
        count: int,
        statuses: frozenset[CampaignStatus],
    ) -> Campaign | None:
        campaign = self.rows[campaign_id]
        remaining = campaign.remaining()
        if self.refuse_take or (remaining is not None and remaining < count):
            return None
        self.taken.append(count)
        self.rows[campaign_id] = dataclasses.replace(
            campaign, issued_count=campaign.issued_count + count
        )
        return self.rows[campaign_id]

    async def count_redemption(self, *, campaign_id: UUID, delta: int) -> None:
        campaign = self.rows[campaign_id]
        self.rows[campaign_id] = dataclasses.replace(
            campaign, redeemed_count=campaign.redeemed_count + delta
        )


class FakeLimits:
    def __init__(self) -> None:
        self.claimed: dict[tuple[UUID, UUID], int] = {}

    async def take(self, *, campaign_id: UUID, user_id: UUID, limit: int) -> bool:
        held = self.claimed.get((campaign_id, user_id), 0)
        if held >= limit:
            return False
        self.claimed[(campaign_id, user_id)] = held + 1
        return True


class FakeCoupons:
    def __init__(self, campaigns: FakeCampaigns, limits: FakeLimits, events: FakeEvents) -> None:
        self.rows: dict[str, Coupon] = {}
        self.taken_codes: set[str] = set()
        self._campaigns = campaigns
        self._limits = limits
        self._events = events

    async def issue(
        self,
        *,
        campaign: Campaign,
        coupon_id: UUID,
        owner_user_id: UUID,
        code: str,
        limit: int,
        issued_at: datetime,
        expires_at: datetime,
        event: DomainEvent,
        answer: object,
        wait: bool = False,
    ) -> IssueOutcome:
        if code in self.taken_codes or code in self.rows:
            # A unique violation: the statement changes nothing and is run again.
            self.taken_codes.discard(code)
            return IssueOutcome(limit_reached=False, issued_count=None, coupon=None, run_again=True)
        if not await self._limits.take(campaign_id=campaign.id, user_id=owner_user_id, limit=limit):
            return IssueOutcome(limit_reached=True, issued_count=None, coupon=None)
        if not self._campaigns.rows[campaign.id].is_claimable(issued_at):
            return IssueOutcome(limit_reached=False, issued_count=None, coupon=None)
        taken = await self._campaigns.take_units(
            campaign_id=campaign.id, count=1, statuses=frozenset({CampaignStatus.ACTIVE})
        )
        if taken is None:
            return IssueOutcome(limit_reached=False, issued_count=None, coupon=None)
        coupon = await self.add_issued(
            campaign=campaign,
            coupon_id=coupon_id,
            owner_user_id=owner_user_id,
            code=code,
            issued_at=issued_at,
            expires_at=expires_at,
        )
        if coupon is not None:  # the statement writes the event with the coupon
            await self._events.add(event)
        return IssueOutcome(limit_reached=False, issued_count=taken.issued_count, coupon=coupon)

    async def add_issued(
        self,
        *,
        campaign: Campaign,
        coupon_id: UUID,
        owner_user_id: UUID,
        code: str,
        issued_at: datetime,
        expires_at: datetime,
        distributor_merchant_id: UUID | None = None,
        allocation_id: UUID | None = None,
    ) -> Coupon | None:
        if code in self.taken_codes or code in self.rows:
            self.taken_codes.discard(code)
            return None
        coupon = Coupon(
            coupon_id,
            code,
            campaign.id,
            campaign.merchant_id,
            owner_user_id,
            CouponStatus.ACTIVE,
            issued_at,
            expires_at,
            None,
        )
        self.rows[code] = coupon
        return coupon

    async def by_code(self, code: str) -> Coupon | None:
        return self.rows.get(code)

    async def with_campaign(self, code: str) -> tuple[Coupon, Campaign] | None:
        coupon = self.rows.get(code)
        return (coupon, self._campaigns.rows[coupon.campaign_id]) if coupon else None

    def replace_coupon(self, coupon_id: UUID, **changes: Any) -> Coupon:
        (code,) = [c for c, coupon in self.rows.items() if coupon.id == coupon_id]
        self.rows[code] = dataclasses.replace(self.rows[code], **changes)
        return self.rows[code]

    async def reinstate(self, *, coupon_id: UUID) -> Coupon | None:
        return self.replace_coupon(coupon_id, stored_status=CouponStatus.ACTIVE, redeemed_at=None)


class FakeRedemptions:
    def __init__(self, coupons: FakeCoupons, campaigns: FakeCampaigns, events: FakeEvents) -> None:
        self.rows: dict[UUID, Redemption] = {}
        self.reversed: set[UUID] = set()
        self.redeem_fails = False
        self._coupons = coupons
        self._campaigns = campaigns
        self._events = events

    async def redeem(
        self,
        *,
        coupon: Coupon,
        redemption_id: UUID,
        outlet_id: UUID,
        order_reference: str | None,
        order_amount: int | None,
        discount_amount: int | None,
        redeemed_by: str,
        now: datetime,
        event: DomainEvent,
    ) -> tuple[Coupon, Redemption] | None:
        if self.redeem_fails:
            # Another request redeemed it between the check and the update.
            self._coupons.replace_coupon(coupon.id, stored_status=CouponStatus.REDEEMED)
            return None
        redeemed = self._coupons.replace_coupon(
            coupon.id, stored_status=CouponStatus.REDEEMED, redeemed_at=now
        )
        redemption = Redemption(
            redemption_id,
            coupon.id,
            coupon.campaign_id,
            outlet_id,
            order_reference,
            order_amount,
            discount_amount,
            now,
        )
        self.rows[redemption.id] = redemption
        await self._campaigns.count_redemption(campaign_id=coupon.campaign_id, delta=1)
        await self._events.add(event)
        return redeemed, redemption

    async def live_for(self, coupon_id: UUID) -> Redemption | None:
        live = [
            r for r in self.rows.values() if r.coupon_id == coupon_id and r.id not in self.reversed
        ]
        return live[0] if live else None

    async def reverse(
        self, *, redemption_id: UUID, reversed_by: str, reason: str, now: datetime
    ) -> bool:
        self.reversed.add(redemption_id)
        return True


class FakeDirectory:
    def __init__(self) -> None:
        self.merchants: dict[UUID, Merchant] = {}
        self.outlets: dict[UUID, frozenset[UUID]] = {}

    def add(self, status: str = "verified", owner: UUID | None = None) -> tuple[UUID, UUID]:
        merchant_id, outlet_id = uuid4(), uuid4()
        self.merchants[merchant_id] = Merchant(merchant_id, status, owner)
        self.outlets[merchant_id] = frozenset({outlet_id})
        return merchant_id, outlet_id

    async def merchant(self, merchant_id: UUID) -> Merchant | None:
        return self.merchants.get(merchant_id)

    async def outlet_ids(
        self, merchant_id: UUID, *, including: Collection[UUID] = ()
    ) -> frozenset[UUID]:
        return self.outlets.get(merchant_id, frozenset())


class FakeEvents:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    async def add(self, event: DomainEvent) -> None:
        self.events.append(event)

    @property
    def types(self) -> list[str]:
        return [e.type for e in self.events]


class NoExport:
    async def batches(self, campaign_id: UUID) -> AsyncIterator[list[str]]:
        yield []


class World:
    def __init__(self) -> None:
        self.now = NOW
        self.campaigns = FakeCampaigns()
        self.limits = FakeLimits()
        self.events = FakeEvents()
        self.coupons = FakeCoupons(self.campaigns, self.limits, self.events)
        self.redemptions = FakeRedemptions(self.coupons, self.campaigns, self.events)
        self.directory = FakeDirectory()

    def clock(self) -> datetime:
        return self.now

    async def attempt(self, call: Awaitable[T]) -> T:
        """A service call as the unit of work runs it: the events it wrote are dropped when
        it raises (the fakes keep everything else)."""
        written = len(self.events.events)
        try:
            return await call
        except Exception:
            del self.events.events[written:]
            raise

    def campaign_service(self) -> CampaignService:
        return CampaignService(
            campaigns=self.campaigns,  # type: ignore[arg-type]
            coupons=self.coupons,  # type: ignore[arg-type]
            redemptions=self.redemptions,  # type: ignore[arg-type]
            merchants=self.directory,
            events=self.events,
            clock=self.clock,
        )

    def issuing(self) -> IssuingService:
        return IssuingService(
            campaigns=self.campaigns,  # type: ignore[arg-type]
            coupons=self.coupons,  # type: ignore[arg-type]
            limits=self.limits,
            merchants=self.directory,
            events=self.events,
            code_export=NoExport(),
            clock=self.clock,
        )

    def redeeming(self) -> RedemptionService:
        return RedemptionService(
            campaigns=self.campaigns,  # type: ignore[arg-type]
            coupons=self.coupons,  # type: ignore[arg-type]
            redemptions=self.redemptions,  # type: ignore[arg-type]
            merchants=self.directory,
            events=self.events,
            clock=self.clock,
        )


@pytest.fixture
def world() -> World:
    return World()


async def test_create_checks_the_caller_before_the_terms(world: World) -> None:
    merchant_id, _ = world.directory.add()
    service = world.campaign_service()
    with pytest.raises(Forbidden):
        await service.create(
            principal=principal(staff=merchant_id),
            merchant_id=merchant_id,
            terms=offer(discount_value=95),
        )
    with pytest.raises(DiscountTooHigh):
        await service.create(
            principal=principal(owner=merchant_id),
            merchant_id=merchant_id,
            terms=offer(discount_value=95),
        )
    assert world.events.events == []


async def test_create_then_the_merchants_state(world: World) -> None:
    applicant = uuid4()
    pending, _ = world.directory.add(status="pending", owner=applicant)
    service = world.campaign_service()
    with pytest.raises(MerchantNotVerified):
        await service.create(principal=principal(applicant), merchant_id=pending, terms=offer())
    verified, _ = world.directory.add()
    campaign = await service.create(
        principal=principal(owner=verified), merchant_id=verified, terms=offer()
    )
    assert campaign.status is CampaignStatus.DRAFT
    assert world.events.types == ["campaign.created"]
    assert world.events.events[0].entity_type == "campaign"


async def test_transitions_name_their_events(world: World) -> None:
    merchant_id, _ = world.directory.add()
    owner = principal(owner=merchant_id)
    campaign = world.campaigns.add(merchant_id, CampaignStatus.DRAFT)
    service = world.campaign_service()
    for action in (CampaignAction.PUBLISH, CampaignAction.PAUSE, CampaignAction.END):
        await service.transition(principal=owner, campaign_id=campaign.id, action=action)
    with pytest.raises(InvalidTransition):
        await service.transition(
            principal=owner, campaign_id=campaign.id, action=CampaignAction.RESUME
        )
    assert world.events.types == ["campaign.published", "campaign.paused", "campaign.ended"]


async def test_claim_counts_the_customer_before_the_campaign(world: World) -> None:
    merchant_id, _ = world.directory.add()
    campaign = world.campaigns.add(merchant_id, per_customer_limit=1)
    customer = principal()
    details = await world.issuing().claim(principal=customer, campaign_id=campaign.id)
    assert details.coupon.owner_user_id == customer.user_id
    assert details.coupon.expires_at == campaign.terms.ends_at
    with pytest.raises(LimitReached):
        await world.attempt(world.issuing().claim(principal=customer, campaign_id=campaign.id))
    assert world.campaigns.taken == [1]
    assert world.events.types == ["coupon.claimed"]


async def test_claim_refused_by_the_quantity_is_sold_out(world: World) -> None:
    merchant_id, _ = world.directory.add()
    campaign = world.campaigns.add(merchant_id)
    world.campaigns.refuse_take = True  # another claim took the last one meanwhile
    with pytest.raises(SoldOut):
        await world.issuing().claim(principal=principal(), campaign_id=campaign.id)


async def test_claim_of_a_campaign_not_started(world: World) -> None:
    merchant_id, _ = world.directory.add()
    campaign = world.campaigns.add(merchant_id)
    world.now = campaign.terms.starts_at - timedelta(seconds=1)
    with pytest.raises(CampaignNotActive):
        await world.issuing().claim(principal=principal(), campaign_id=campaign.id)


async def test_a_taken_code_is_drawn_again(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from svc_coupons.services import issuing

    merchant_id, _ = world.directory.add()
    campaign = world.campaigns.add(merchant_id)
    draws = iter(["TAKENCODE222", "FRESHCODE222"])
    world.coupons.taken_codes.add("TAKENCODE222")
    monkeypatch.setattr(issuing, "new_code", lambda: next(draws))
    details = await world.issuing().claim(principal=principal(), campaign_id=campaign.id)
    assert details.coupon.code == "FRESHCODE222"


async def test_redeem_lost_to_a_concurrent_redeem(world: World) -> None:
    merchant_id, outlet_id = world.directory.add()
    campaign = world.campaigns.add(merchant_id)
    details = await world.issuing().claim(principal=principal(), campaign_id=campaign.id)
    world.redemptions.redeem_fails = True
    with pytest.raises(AlreadyRedeemed):
        await world.redeeming().redeem(
            principal=principal(staff=merchant_id),
            code=details.coupon.code,
            outlet_id=outlet_id,
            order_reference=None,
            order_amount=None,
        )
    assert world.redemptions.rows == {}


async def test_reversal_window_is_24_hours(world: World) -> None:
    merchant_id, outlet_id = world.directory.add()
    campaign = world.campaigns.add(merchant_id)
    owner = principal(owner=merchant_id)
    service = world.redeeming()
    details = await world.issuing().claim(principal=principal(), campaign_id=campaign.id)
    code = details.coupon.code
    await service.redeem(
        principal=owner, code=code, outlet_id=outlet_id, order_reference=None, order_amount=100
    )
    world.now = NOW + timedelta(hours=24, seconds=1)
    with pytest.raises(ReversalWindowPassed):
        await service.reverse(principal=owner, code=code, reason="late")
    world.now = NOW + timedelta(hours=24)
    reinstated = await service.reverse(principal=owner, code=code, reason="in time")
    assert reinstated.status is CouponStatus.ACTIVE
    assert world.campaigns.rows[campaign.id].redeemed_count == 0
    assert world.events.types[-2:] == ["coupon.redeemed", "coupon.redemption_reversed"]


async def test_lists_of_other_statuses_are_for_members(world: World) -> None:
    merchant_id, _ = world.directory.add()
    draft = world.campaigns.add(merchant_id, CampaignStatus.DRAFT)
    world.campaigns.add(merchant_id)
    service = world.campaign_service()
    with pytest.raises(Forbidden):
        await service.list(
            principal=principal(), merchant_id=merchant_id, status="draft", page=PageRequest()
        )
    page = await service.list(
        principal=principal(staff=merchant_id),
        merchant_id=merchant_id,
        status="draft",
        page=PageRequest(),
    )
    assert [c.id for c in page.items] == [draft.id]
