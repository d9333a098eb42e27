"""The exchange's rules on their own: what a listing wants, when a gift or a listing is
still open, and who issues from a partner's share."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from core.auth import Principal
from core.auth.principal import Membership
from svc_coupons.services.allocations import may_issue_for
from svc_coupons.services.data_model.coupons import Coupon, CouponStatus
from svc_coupons.services.data_model.exchange import (
    Listing,
    ListingDetails,
    ListingStatus,
    Transfer,
    TransferStatus,
    Wants,
)
from svc_coupons.services.exchange_access import as_taken

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CAMPAIGN, MERCHANT = uuid4(), uuid4()


def coupon(status: CouponStatus = CouponStatus.ACTIVE, **changes: object) -> Coupon:
    fields: dict[str, object] = {
        "id": uuid4(),
        "code": "ABCDEFGHJK23",
        "campaign_id": CAMPAIGN,
        "merchant_id": MERCHANT,
        "owner_user_id": uuid4(),
        "stored_status": status,
        "issued_at": NOW - timedelta(days=1),
        "expires_at": NOW + timedelta(days=1),
        "redeemed_at": None,
    }
    return Coupon(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("wants", "matches"),
    [
        (Wants(), True),
        (Wants(campaign_id=CAMPAIGN), True),
        (Wants(merchant_id=MERCHANT), True),
        (Wants(campaign_id=CAMPAIGN, merchant_id=MERCHANT), True),
        (Wants(campaign_id=uuid4()), False),
        (Wants(merchant_id=uuid4()), False),
        (Wants(campaign_id=CAMPAIGN, merchant_id=uuid4()), False),
    ],
)
def test_what_a_listing_wants(wants: Wants, matches: bool) -> None:
    assert wants.matched_by(coupon()) is matches


def test_a_pending_gift_lapses_at_its_time_without_a_write() -> None:
    transfer = Transfer(
        id=uuid4(),
        coupon_id=uuid4(),
        sender_user_id=uuid4(),
        recipient_user_id=None,
        claim_token_hash="0" * 64,
        idempotency_key=None,
        stored_status=TransferStatus.PENDING,
        created_at=NOW - timedelta(hours=72),
        expires_at=NOW,
        closed_at=None,
    )
    assert transfer.status_at(NOW - timedelta(seconds=1)) is TransferStatus.PENDING
    assert transfer.status_at(NOW) is TransferStatus.EXPIRED
    cancelled = dataclasses.replace(transfer, stored_status=TransferStatus.CANCELLED)
    assert cancelled.status_at(NOW + timedelta(days=1)) is TransferStatus.CANCELLED


def listing(status: ListingStatus = ListingStatus.OPEN) -> Listing:
    return Listing(
        id=uuid4(),
        coupon_id=uuid4(),
        owner_user_id=uuid4(),
        campaign_id=CAMPAIGN,
        merchant_id=MERCHANT,
        wants=Wants(),
        stored_status=status,
        created_at=NOW,
        closed_at=None,
        accepted_by_user_id=None,
        offered_coupon_id=None,
    )


@pytest.mark.parametrize(
    ("stored", "held", "shown"),
    [
        (ListingStatus.OPEN, coupon(CouponStatus.RESERVED), ListingStatus.OPEN),
        (
            ListingStatus.OPEN,
            coupon(CouponStatus.RESERVED, expires_at=NOW),
            ListingStatus.EXPIRED,
        ),
        (ListingStatus.OPEN, coupon(CouponStatus.VOID), ListingStatus.CANCELLED),
        (ListingStatus.ACCEPTED, coupon(CouponStatus.ACTIVE), ListingStatus.ACCEPTED),
        (ListingStatus.CANCELLED, coupon(CouponStatus.ACTIVE), ListingStatus.CANCELLED),
    ],
)
def test_a_listing_is_open_only_while_its_coupon_is_held_and_unexpired(
    stored: ListingStatus, held: Coupon, shown: ListingStatus
) -> None:
    assert ListingDetails.status_of(listing(stored), held, NOW) is shown


def test_a_held_coupon_is_judged_as_the_active_one_it_becomes() -> None:
    assert as_taken(coupon(CouponStatus.RESERVED)).status_at(NOW) is CouponStatus.ACTIVE
    expired = coupon(CouponStatus.RESERVED, expires_at=NOW)
    assert as_taken(expired).status_at(NOW) is CouponStatus.EXPIRED
    assert as_taken(coupon(CouponStatus.VOID)).status_at(NOW) is CouponStatus.VOID


def principal(merchant: UUID, role: str, scope: str = "") -> Principal:
    return Principal(
        subject=str(uuid4()),
        client_id="merchant-portal",
        scopes=frozenset(scope.split()),
        roles=frozenset({"customer"}),
        memberships=(Membership(merchant, role),),
    )


@pytest.mark.parametrize(
    ("role", "scope", "may"),
    [
        ("owner", "", True),
        ("staff", "", True),
        ("partner", "coupons:write", True),
        ("partner", "coupons:read coupons:redeem", False),
    ],
)
def test_who_issues_from_a_share(role: str, scope: str, may: bool) -> None:
    partner = uuid4()
    assert may_issue_for(principal(partner, role, scope), partner) is may
    assert may_issue_for(principal(uuid4(), role, scope), partner) is False
