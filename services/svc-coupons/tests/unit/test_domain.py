"""The domain rules on their own: lifecycle, terms, discount maths, expiry, redeemability."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from svc_coupons.services.data_model.campaigns import (
    Campaign,
    CampaignAction,
    CampaignStatus,
    CampaignTerms,
    DiscountType,
    TermsViolation,
    TransitionRefused,
    next_status,
)
from svc_coupons.services.data_model.coupons import CampaignStats, Coupon, CouponStatus
from svc_coupons.services.data_model.merchants import Merchant
from svc_coupons.services.data_model.redemption import RedemptionRequest, Refusal, refusal

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
S = CampaignStatus
A = CampaignAction


def terms(**overrides: object) -> CampaignTerms:
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
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def campaign(**overrides: object) -> Campaign:
    base = Campaign(uuid4(), uuid4(), terms(), S.ACTIVE, 0, 0, NOW, NOW)
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "action", "expected"),
    [
        (S.DRAFT, A.PUBLISH, S.ACTIVE),
        (S.ACTIVE, A.PAUSE, S.PAUSED),
        (S.PAUSED, A.RESUME, S.ACTIVE),
        (S.ACTIVE, A.END, S.ENDED),
        (S.PAUSED, A.END, S.ENDED),
    ],
)
def test_allowed_transitions(status: S, action: A, expected: S) -> None:
    assert next_status(status, action) is expected


ALLOWED = {
    (S.DRAFT, A.PUBLISH),
    (S.ACTIVE, A.PAUSE),
    (S.PAUSED, A.RESUME),
    (S.ACTIVE, A.END),
    (S.PAUSED, A.END),
}


@pytest.mark.parametrize(
    ("status", "action"),
    [(s, a) for s in S for a in A if (s, a) not in ALLOWED],
)
def test_every_other_transition_is_refused(status: S, action: A) -> None:
    with pytest.raises(TransitionRefused):
        next_status(status, action)


@pytest.mark.parametrize(
    ("overrides", "violation"),
    [
        ({"discount_value": 91}, TermsViolation.DISCOUNT_TOO_HIGH),
        ({"discount_value": 0}, TermsViolation.INVALID_DISCOUNT),
        ({"currency": "EUR"}, TermsViolation.INVALID_CURRENCY),
        (
            {"discount_type": DiscountType.FIXED_AMOUNT, "discount_value": 100},
            TermsViolation.INVALID_CURRENCY,
        ),
        (
            {"discount_type": DiscountType.FIXED_AMOUNT, "discount_value": 100, "currency": "eur"},
            TermsViolation.INVALID_CURRENCY,
        ),
        (
            {"discount_type": DiscountType.FIXED_AMOUNT, "discount_value": 0, "currency": "EUR"},
            TermsViolation.INVALID_DISCOUNT,
        ),
        ({"starts_at": NOW, "ends_at": NOW}, TermsViolation.INVALID_PERIOD),
    ],
)
def test_terms_violations(overrides: dict[str, object], violation: TermsViolation) -> None:
    assert [v for v, _ in terms(**overrides).violations()] == [violation]


@pytest.mark.parametrize("value", [1, 50, 90])
def test_percentages_1_to_90_are_fine(value: int) -> None:
    assert terms(discount_value=value).violations() == []


def test_fixed_amount_with_currency_is_fine() -> None:
    fixed = terms(discount_type=DiscountType.FIXED_AMOUNT, discount_value=1, currency="JPY")
    assert fixed.violations() == []


@pytest.mark.parametrize(
    ("discount_type", "value", "order", "expected"),
    [
        (DiscountType.PERCENTAGE, 10, 999, 99),
        (DiscountType.PERCENTAGE, 33, 100, 33),
        (DiscountType.PERCENTAGE, 90, 1, 0),
        (DiscountType.PERCENTAGE, 15, 0, 0),
        (DiscountType.PERCENTAGE, 10, None, None),
        (DiscountType.FIXED_AMOUNT, 500, 1000, 500),
        (DiscountType.FIXED_AMOUNT, 500, 499, 499),
        (DiscountType.FIXED_AMOUNT, 500, None, 500),
    ],
)
def test_discount_maths(
    discount_type: DiscountType, value: int, order: int | None, expected: int | None
) -> None:
    currency = "EUR" if discount_type is DiscountType.FIXED_AMOUNT else None
    offer = terms(discount_type=discount_type, discount_value=value, currency=currency)
    assert offer.discount_for(order) == expected


def test_expiry_is_the_earlier_of_validity_and_end() -> None:
    assert terms().coupon_expiry(NOW) == NOW + timedelta(days=30)
    assert terms(validity_days=7).coupon_expiry(NOW) == NOW + timedelta(days=7)
    assert terms(validity_days=60).coupon_expiry(NOW) == NOW + timedelta(days=30)


def test_remaining_and_claimable() -> None:
    assert campaign().remaining() is None
    limited = campaign(terms=terms(total_quantity=5), issued_count=5)
    assert limited.remaining() == 0
    assert campaign().is_claimable(NOW)
    assert not campaign(status=S.PAUSED).is_claimable(NOW)
    assert not campaign().is_claimable(NOW + timedelta(days=31))
    assert not campaign().is_claimable(NOW - timedelta(days=2))


def test_stats_rate() -> None:
    assert CampaignStats(0, 0, 0, 0, 0, 0, 3, ()).redemption_rate == 0.0
    assert CampaignStats(3, 1, 2, 0, 0, 0, 0, ()).redemption_rate == 0.3333


def coupon(status: CouponStatus = CouponStatus.ACTIVE, **overrides: object) -> Coupon:
    base = Coupon(
        id=uuid4(),
        code="ABCDEFGHJKMN",
        campaign_id=uuid4(),
        merchant_id=uuid4(),
        owner_user_id=uuid4(),
        stored_status=status,
        issued_at=NOW - timedelta(days=1),
        expires_at=NOW + timedelta(days=1),
        redeemed_at=None,
    )
    return dataclasses.replace(base, **overrides)  # type: ignore[arg-type]


def test_expired_is_read_from_the_clock() -> None:
    active = coupon()
    assert active.status_at(NOW) is CouponStatus.ACTIVE
    assert active.status_at(NOW + timedelta(days=1)) is CouponStatus.EXPIRED
    assert coupon(CouponStatus.REDEEMED).status_at(NOW + timedelta(days=9)) is CouponStatus.REDEEMED


OUTLET = uuid4()
VERIFIED = Merchant(uuid4(), "verified", uuid4())


def decide(
    subject: Coupon | None = None,
    of: Campaign | None = None,
    merchant: Merchant | None = VERIFIED,
    outlet=OUTLET,  # type: ignore[no-untyped-def]
    order_amount: int | None = 1000,
) -> Refusal | None:
    return refusal(
        coupon=subject or coupon(),
        campaign=of or campaign(),
        merchant=merchant,
        merchant_outlets=frozenset({OUTLET}),
        request=RedemptionRequest(outlet, order_amount),
        now=NOW,
    )


def test_a_usable_coupon_is_redeemable() -> None:
    assert decide() is None


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (CouponStatus.REDEEMED, Refusal.ALREADY_REDEEMED),
        (CouponStatus.EXPIRED, Refusal.COUPON_EXPIRED),
        (CouponStatus.VOID, Refusal.COUPON_VOID),
        (CouponStatus.RESERVED, Refusal.COUPON_LOCKED),
        (CouponStatus.UNASSIGNED, Refusal.COUPON_NOT_CLAIMED),
    ],
)
def test_coupon_status_refusals(status: CouponStatus, reason: Refusal) -> None:
    assert decide(coupon(status)) is reason


def test_refusals_in_order() -> None:
    assert decide(coupon(expires_at=NOW)) is Refusal.COUPON_EXPIRED
    assert decide(of=campaign(status=S.PAUSED)) is Refusal.CAMPAIGN_NOT_ACTIVE
    assert decide(merchant=None) is Refusal.MERCHANT_NOT_VERIFIED
    assert decide(merchant=Merchant(uuid4(), "suspended", None)) is Refusal.MERCHANT_NOT_VERIFIED
    assert decide(outlet=uuid4()) is Refusal.OUTLET_NOT_ALLOWED
    other_outlet_only = campaign(terms=terms(outlet_ids=(uuid4(),)))
    assert decide(of=other_outlet_only) is Refusal.OUTLET_NOT_ALLOWED
    assert decide(of=campaign(terms=terms(outlet_ids=(OUTLET,)))) is None
    with_min = campaign(terms=terms(min_spend=2000))
    assert decide(of=with_min) is Refusal.MIN_SPEND_NOT_MET
    assert decide(of=with_min, order_amount=None) is Refusal.MIN_SPEND_NOT_MET
    assert decide(of=with_min, order_amount=2000) is None
    # The coupon's own state comes first: a redeemed coupon of a paused campaign says so.
    assert decide(coupon(CouponStatus.REDEEMED), of=campaign(status=S.PAUSED)) is (
        Refusal.ALREADY_REDEEMED
    )
