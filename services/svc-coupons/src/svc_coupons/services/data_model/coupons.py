"""Coupons: one issued unit of a campaign with its own code, and what a redemption is."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from svc_coupons.services.data_model.campaigns import Campaign


class CouponStatus(StrEnum):
    UNASSIGNED = "unassigned"  # a generated code nobody has claimed yet
    ACTIVE = "active"
    RESERVED = "reserved"  # held by a pending transfer or an exchange listing
    REDEEMED = "redeemed"
    EXPIRED = "expired"
    VOID = "void"


class WalletFilter(StrEnum):
    ACTIVE = "active"  # usable now
    HISTORY = "history"  # redeemed, expired or void


# Stored statuses that read as expired once the coupon's time is up.
RUNS_OUT = frozenset({CouponStatus.ACTIVE, CouponStatus.RESERVED})
# What a coupon may be voided from; a redeemed one is reversed first.
VOIDABLE = frozenset(
    {CouponStatus.UNASSIGNED, CouponStatus.ACTIVE, CouponStatus.RESERVED, CouponStatus.EXPIRED}
)


@dataclass(frozen=True, slots=True)
class Coupon:
    id: UUID
    code: str
    campaign_id: UUID
    merchant_id: UUID
    owner_user_id: UUID | None
    stored_status: CouponStatus
    issued_at: datetime | None
    expires_at: datetime | None
    redeemed_at: datetime | None
    # The database's count of the coupon's changes (see CouponRow.version).
    version: int = 1

    def status_at(self, now: datetime) -> CouponStatus:
        """Expiry is a matter of time, not of a write: an active coupon past its end, or one
        a gift or a listing still holds, reads as expired without anything having to run at
        that moment."""
        if (
            self.stored_status in RUNS_OUT
            and self.expires_at is not None
            and now >= self.expires_at
        ):
            return CouponStatus.EXPIRED
        return self.stored_status


@dataclass(frozen=True, slots=True)
class IssueOutcome:
    """What the one statement that issues a coupon decided."""

    limit_reached: bool  # the customer already holds the per-customer limit
    # The campaign's count with this coupon (for a claim: as read before its statement, plus
    # its own unit); None: no unit taken.
    issued_count: int | None
    coupon: Coupon | None  # None when a unit was taken but the code was not free
    # The statement changed nothing and is to be run again, with a new code (a unique
    # key was taken by a concurrent writer: the code, or the customer's first count).
    run_again: bool = False
    key_lost: bool = False  # the request's Idempotency-Key was taken over: nothing done
    # No unit taken though units are left: every shard with stock was locked by another
    # claim. Asked again with `wait`, the statement waits for one.
    busy: bool = False


@dataclass(frozen=True, slots=True)
class CouponDetails:
    """A coupon with its campaign, as wallets and lookups show it."""

    coupon: Coupon
    campaign: Campaign
    status: CouponStatus  # at the time of reading


@dataclass(frozen=True, slots=True)
class Redemption:
    id: UUID
    coupon_id: UUID
    campaign_id: UUID
    outlet_id: UUID
    order_reference: str | None
    order_amount: int | None
    discount_amount: int | None
    redeemed_at: datetime


@dataclass(frozen=True, slots=True)
class RedemptionReceipt:
    redemption: Redemption
    coupon: CouponDetails


@dataclass(frozen=True, slots=True)
class DistributorStats:
    """What one merchant gave out of a campaign: its own, or a partner's from a share."""

    merchant_id: UUID
    issued: int
    redeemed: int


@dataclass(frozen=True, slots=True)
class CampaignStats:
    issued: int
    redeemed: int
    active: int
    expired: int
    voided: int
    reserved: int
    unassigned: int
    by_outlet: tuple[tuple[UUID, int], ...]
    by_distributor: tuple[DistributorStats, ...] = ()

    @property
    def redemption_rate(self) -> float:
        return round(self.redeemed / self.issued, 4) if self.issued else 0.0


@dataclass(frozen=True, slots=True)
class CodeRecord:
    code: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    event_id: str
    type: str
    actor: str | None
    at: str
    data: dict[str, object]
