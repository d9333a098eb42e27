"""Campaigns: their terms, the rules those terms obey, and the lifecycle state machine."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID

MAX_PERCENTAGE = 90
# The years a campaign may start and end in. Far enough either way for any real campaign,
# and far from the ends of datetime's range, where converting to UTC or adding a coupon's
# validity would overflow.
EARLIEST_MOMENT = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(2101, 1, 1, tzinfo=UTC)  # exclusive: 2100 is the last year
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


# A coupon changes hands (gift, listing, swap) only while its campaign is one of these: a
# paused campaign resumes, so its coupons are still worth something; an ended one never will.
TRADING = frozenset({CampaignStatus.ACTIVE, CampaignStatus.PAUSED})


class CampaignAction(StrEnum):
    PUBLISH = "publish"
    PAUSE = "pause"
    RESUME = "resume"
    END = "end"


class DiscountType(StrEnum):
    PERCENTAGE = "percentage"
    FIXED_AMOUNT = "fixed_amount"


# draft -> active <-> paused -> ended, and active -> ended.
TRANSITIONS: dict[CampaignAction, tuple[frozenset[CampaignStatus], CampaignStatus]] = {
    CampaignAction.PUBLISH: (frozenset({CampaignStatus.DRAFT}), CampaignStatus.ACTIVE),
    CampaignAction.PAUSE: (frozenset({CampaignStatus.ACTIVE}), CampaignStatus.PAUSED),
    CampaignAction.RESUME: (frozenset({CampaignStatus.PAUSED}), CampaignStatus.ACTIVE),
    CampaignAction.END: (
        frozenset({CampaignStatus.ACTIVE, CampaignStatus.PAUSED}),
        CampaignStatus.ENDED,
    ),
}


class TermsViolation(StrEnum):
    """Why a campaign's terms are refused; each value is the error code callers see."""

    DISCOUNT_TOO_HIGH = "discount_too_high"
    INVALID_DISCOUNT = "invalid_discount"
    INVALID_CURRENCY = "invalid_currency"
    INVALID_PERIOD = "invalid_period"
    DATE_OUT_OF_RANGE = "date_out_of_range"


class TransitionRefused(Exception):
    def __init__(self, status: CampaignStatus, action: CampaignAction) -> None:
        super().__init__(f"A {status.value} campaign cannot {action.value}")
        self.status = status
        self.action = action


def next_status(status: CampaignStatus, action: CampaignAction) -> CampaignStatus:
    allowed_from, to = TRANSITIONS[action]
    if status not in allowed_from:
        raise TransitionRefused(status, action)
    return to


@dataclass(frozen=True, slots=True)
class CampaignTerms:
    """What the merchant offers: every field a campaign is created or patched with."""

    title: str
    description: str | None
    discount_type: DiscountType
    discount_value: int  # percent, or minor units of `currency`
    currency: str | None
    min_spend: int | None
    total_quantity: int | None  # None: unlimited
    per_customer_limit: int
    starts_at: datetime
    ends_at: datetime
    validity_days: int | None  # None: coupons last until the campaign ends
    outlet_ids: tuple[UUID, ...]  # empty: every outlet of the merchant
    transferable: bool
    tradable: bool

    def violations(self) -> list[tuple[TermsViolation, str]]:
        """The business rules the terms break, most specific first; empty when valid."""
        found: list[tuple[TermsViolation, str]] = []
        if self.discount_type is DiscountType.PERCENTAGE:
            if self.discount_value > MAX_PERCENTAGE:
                found.append(
                    (
                        TermsViolation.DISCOUNT_TOO_HIGH,
                        f"A percentage discount is at most {MAX_PERCENTAGE}",
                    )
                )
            elif self.discount_value < 1:
                found.append((TermsViolation.INVALID_DISCOUNT, "A percentage discount is 1 to 90"))
            if self.currency is not None:
                found.append(
                    (TermsViolation.INVALID_CURRENCY, "A percentage discount has no currency")
                )
        else:
            if self.discount_value < 1:
                found.append(
                    (TermsViolation.INVALID_DISCOUNT, "A fixed amount discount is above zero")
                )
            if self.currency is None or not CURRENCY_PATTERN.fullmatch(self.currency):
                found.append(
                    (
                        TermsViolation.INVALID_CURRENCY,
                        "A fixed amount discount needs an ISO 4217 currency",
                    )
                )
        out_of_range = [
            name
            for name, moment in (("starts_at", self.starts_at), ("ends_at", self.ends_at))
            if not EARLIEST_MOMENT <= moment < LATEST_MOMENT
        ]
        if out_of_range:
            found.append(
                (
                    TermsViolation.DATE_OUT_OF_RANGE,
                    f"{' and '.join(out_of_range)} must be in the years "
                    f"{EARLIEST_MOMENT.year} to {LATEST_MOMENT.year - 1}",
                )
            )
        elif self.starts_at >= self.ends_at:
            found.append((TermsViolation.INVALID_PERIOD, "starts_at must be before ends_at"))
        return found

    def discount_for(self, order_amount: int | None) -> int | None:
        """The discount in minor units. Without an order amount a percentage has none to
        give (None) and a fixed amount gives its face value."""
        if self.discount_type is DiscountType.PERCENTAGE:
            if order_amount is None:
                return None
            return order_amount * self.discount_value // 100
        if order_amount is None:
            return self.discount_value
        return min(self.discount_value, order_amount)

    def coupon_expiry(self, issued_at: datetime) -> datetime:
        """A coupon lasts `validity_days` from issue, never past the campaign's end."""
        if self.validity_days is None:
            return self.ends_at
        return min(self.ends_at, issued_at + timedelta(days=self.validity_days))

    def is_running(self, now: datetime) -> bool:
        return self.starts_at <= now < self.ends_at


@dataclass(frozen=True, slots=True)
class Campaign:
    id: UUID
    merchant_id: UUID
    terms: CampaignTerms
    status: CampaignStatus
    issued_count: int
    redeemed_count: int
    created_at: datetime
    updated_at: datetime

    def remaining(self) -> int | None:
        """Units still to give out; None when the quantity is unlimited."""
        total = self.terms.total_quantity
        return None if total is None else max(total - self.issued_count, 0)

    def is_claimable(self, now: datetime) -> bool:
        return self.status is CampaignStatus.ACTIVE and self.terms.is_running(now)
