"""What a process remembers of campaigns that refuse every claim, and its bound on one
campaign's claims in flight."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from svc_coupons.services.claim_refusals import ClaimRefusals
from svc_coupons.services.claims_in_flight import ClaimsInFlight
from svc_coupons.services.data_model.campaigns import (
    Campaign,
    CampaignStatus,
    CampaignTerms,
    DiscountType,
)
from svc_coupons.services.errors import CampaignBusy, CampaignNotActive, LimitReached, SoldOut

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
S = CampaignStatus


def campaign(
    *, status: S = S.ACTIVE, total: int | None = 10, issued: int = 10, **terms: object
) -> Campaign:
    base = CampaignTerms(
        title="Ten off",
        description=None,
        discount_type=DiscountType.PERCENTAGE,
        discount_value=10,
        currency=None,
        min_spend=None,
        total_quantity=total,
        per_customer_limit=1,
        starts_at=NOW - timedelta(days=1),
        ends_at=NOW + timedelta(days=30),
        validity_days=None,
        outlet_ids=(),
        transferable=True,
        tradable=True,
    )
    return Campaign(
        uuid4(),
        uuid4(),
        dataclasses.replace(base, **terms),  # type: ignore[arg-type]
        status,
        issued,
        0,
        NOW,
        NOW,
    )


class Clock:
    def __init__(self) -> None:
        self.seconds = 100.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def refusals(clock: Clock) -> ClaimRefusals:
    return ClaimRefusals(recheck_seconds=2.0, monotonic=clock)


def test_a_sold_out_campaign_is_answered_from_memory_until_the_recheck(
    refusals: ClaimRefusals, clock: Clock
) -> None:
    sold_out = campaign()
    assert refusals.refusal(sold_out.id, NOW) is None
    refusals.remember(sold_out, SoldOut(), NOW)
    assert isinstance(refusals.refusal(sold_out.id, NOW), SoldOut)
    clock.seconds += 1.9
    assert isinstance(refusals.refusal(sold_out.id, NOW), SoldOut)
    clock.seconds += 0.1
    assert refusals.refusal(sold_out.id, NOW) is None  # one claim asks the database again


def test_the_statement_refusing_a_unit_the_read_still_saw_is_not_remembered(
    refusals: ClaimRefusals,
) -> None:
    # The read before the claim saw a unit left; the statement found none (taken meanwhile,
    # or the campaign paused and resumed between the statement and the read after it): only
    # a read that itself shows none left is proof enough.
    last_unit = campaign(issued=9)
    refusals.remember(last_unit, SoldOut(), NOW)
    assert refusals.refusal(last_unit.id, NOW) is None
    unlimited = campaign(total=None, issued=1_000)
    refusals.remember(unlimited, SoldOut(), NOW)
    assert refusals.refusal(unlimited.id, NOW) is None


def test_a_sold_out_campaign_past_its_end_answers_not_active(refusals: ClaimRefusals) -> None:
    sold_out = campaign()
    refusals.remember(sold_out, SoldOut(), NOW)
    assert isinstance(refusals.refusal(sold_out.id, sold_out.terms.ends_at), CampaignNotActive)


def test_a_campaign_not_started_yet_is_remembered_until_it_starts(
    refusals: ClaimRefusals,
) -> None:
    starts_at = NOW + timedelta(seconds=1)
    upcoming = campaign(issued=0, starts_at=starts_at)
    refusals.remember(upcoming, CampaignNotActive(), NOW)
    assert isinstance(refusals.refusal(upcoming.id, NOW), CampaignNotActive)
    assert refusals.refusal(upcoming.id, starts_at) is None


@pytest.mark.parametrize(
    "ended",
    [
        campaign(status=S.ENDED, issued=0),
        campaign(issued=0, starts_at=NOW - timedelta(days=2), ends_at=NOW),
    ],
    ids=["ended", "past its end"],
)
def test_an_ended_campaign_is_remembered(refusals: ClaimRefusals, ended: Campaign) -> None:
    refusals.remember(ended, CampaignNotActive(), NOW)
    assert isinstance(refusals.refusal(ended.id, NOW), CampaignNotActive)


@pytest.mark.parametrize(
    ("read", "refused"),
    [
        (campaign(status=S.PAUSED, issued=0), CampaignNotActive()),
        (campaign(status=S.DRAFT, issued=0), CampaignNotActive()),
        # A draft past its end may still be given a new period, and strangers see none.
        (
            campaign(status=S.DRAFT, issued=0, starts_at=NOW - timedelta(days=2), ends_at=NOW),
            CampaignNotActive(),
        ),
        # Running when read, refused by the statement: paused meanwhile, may resume.
        (campaign(issued=0), CampaignNotActive()),
        (campaign(issued=0), LimitReached()),
    ],
    ids=["paused", "draft", "draft past its end", "paused meanwhile", "per-customer limit"],
)
def test_what_may_open_again_any_moment_is_never_remembered(
    refusals: ClaimRefusals, read: Campaign, refused: Exception
) -> None:
    refusals.remember(read, refused, NOW)  # type: ignore[arg-type]
    assert refusals.refusal(read.id, NOW) is None


def test_a_lifecycle_change_forgets_at_once(refusals: ClaimRefusals) -> None:
    sold_out = campaign()
    refusals.remember(sold_out, SoldOut(), NOW)
    refusals.forget(sold_out.id)
    assert refusals.refusal(sold_out.id, NOW) is None


def test_no_recheck_time_means_no_memory(clock: Clock) -> None:
    refusals = ClaimRefusals(recheck_seconds=0, monotonic=clock)
    sold_out = campaign()
    refusals.remember(sold_out, SoldOut(), NOW)
    assert refusals.refusal(sold_out.id, NOW) is None


def test_one_campaign_past_its_bound_is_refused_and_the_others_are_not() -> None:
    in_flight = ClaimsInFlight(per_campaign=2, retry_after_seconds=1)
    hot, other = uuid4(), uuid4()
    with in_flight.slot(hot), in_flight.slot(hot):
        with pytest.raises(CampaignBusy) as busy, in_flight.slot(hot):
            pass
        assert busy.value.status == 429
        assert busy.value.headers() == {"Retry-After": "1"}
        with in_flight.slot(other):
            assert in_flight.waiting(other) == 1
        assert in_flight.waiting(hot) == 2
    assert in_flight.waiting(hot) == 0


def test_a_claim_that_fails_gives_its_slot_back() -> None:
    in_flight = ClaimsInFlight(per_campaign=1, retry_after_seconds=1)
    hot = uuid4()
    with pytest.raises(SoldOut), in_flight.slot(hot):
        raise SoldOut()
    with in_flight.slot(hot):
        assert in_flight.waiting(hot) == 1
