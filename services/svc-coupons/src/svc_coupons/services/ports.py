"""What the services need from storage and other services; repositories implement these,
unit tests fake them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from core.events import DomainEvent
from core.pagination import Page, PageRequest
from svc_coupons.services.data_model.campaigns import Campaign, CampaignStatus, CampaignTerms
from svc_coupons.services.data_model.coupons import (
    CampaignStats,
    CodeRecord,
    Coupon,
    CouponStatus,
    DistributorStats,
    IssueOutcome,
    Redemption,
    WalletFilter,
)
from svc_coupons.services.data_model.exchange import (
    Allocation,
    GiftOutcome,
    Listing,
    ListingStatus,
    SwapOutcome,
    Transfer,
    TransferStatus,
    Wants,
)
from svc_coupons.services.data_model.merchants import Merchant


class CampaignStore(Protocol):
    async def create(
        self, *, merchant_id: UUID, terms: CampaignTerms, created_by: str, now: datetime
    ) -> Campaign: ...

    async def get(self, campaign_id: UUID) -> Campaign | None: ...

    async def get_for_update(self, campaign_id: UUID) -> Campaign | None:
        """The campaign, locked against other changes until the transaction ends."""
        ...

    async def get_many(self, campaign_ids: Collection[UUID]) -> list[Campaign]: ...

    async def list(
        self, *, merchant_id: UUID | None, status: CampaignStatus, page: PageRequest
    ) -> Page[Campaign]: ...

    async def save_terms(
        self, *, campaign_id: UUID, terms: CampaignTerms, now: datetime
    ) -> Campaign | None:
        """The new terms, in one statement that requires the campaign still a draft and
        `terms.total_quantity` (if any) not below its issued_count; None when it is not."""
        ...

    async def set_status(
        self, *, campaign_id: UUID, status: CampaignStatus, now: datetime
    ) -> Campaign: ...

    async def take_units(
        self,
        *,
        campaign_id: UUID,
        count: int,
        statuses: frozenset[CampaignStatus],
    ) -> Campaign | None:
        """Count `count` more units as issued in one conditional statement: only while the
        campaign is in one of `statuses` and the total quantity allows all of them. None
        when it does not. (A claim takes its unit in `CouponStore.issue`.)"""
        ...

    async def count_redemption(self, *, campaign_id: UUID, delta: int) -> None: ...


class CouponStore(Protocol):
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
        """In one statement, which commits by itself when the request wrote nothing before
        it: unless the request's Idempotency-Key was taken over or the customer holds
        `limit`, take one unit of the campaign unless it is sold out, not active or not
        running at `issued_at`; then count it for the customer, insert the coupon and
        `event`, and store `answer` (what the request answers) as the key's answer. A code
        already taken changes nothing and asks for another run (`run_again`). Without
        `wait` it never waits for a unit another claim holds (`busy` when that is all that
        is left); with it, it does."""
        ...

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
        """The new coupon; None when the code is taken (draw another)."""
        ...

    async def add_unassigned(self, *, campaign: Campaign, codes: list[str], now: datetime) -> bool:
        """All codes inserted at once; False, and none inserted, when one was taken."""
        ...

    async def by_code(self, code: str) -> Coupon | None: ...

    async def get_many(self, coupon_ids: Collection[UUID]) -> list[Coupon]: ...

    async def with_campaign(self, code: str) -> tuple[Coupon, Campaign] | None:
        """The coupon and its campaign, read together."""
        ...

    async def assign(
        self, *, coupon_id: UUID, owner_user_id: UUID, issued_at: datetime, expires_at: datetime
    ) -> Coupon | None:
        """Give an unassigned coupon its owner, in one statement that also requires its
        campaign active and running at `issued_at`; None when either is no longer so."""
        ...

    async def reinstate(self, *, coupon_id: UUID) -> Coupon | None:
        """Redeemed back to active; None when it was not redeemed."""
        ...

    async def void(
        self,
        *,
        coupon_id: UUID,
        reason: str,
        from_statuses: frozenset[CouponStatus],
        now: datetime,
    ) -> tuple[Coupon, CouponStatus] | None:
        """The voided coupon and the status the void changed (read under the row's lock,
        in the same statement); None when it was in none of `from_statuses`."""
        ...

    async def wallet(
        self,
        *,
        owner_user_id: UUID,
        wallet_filter: WalletFilter | None,
        now: datetime,
        page: PageRequest,
    ) -> Page[Coupon]: ...

    async def unassigned_codes(
        self, *, campaign_id: UUID, page: PageRequest
    ) -> Page[CodeRecord]: ...

    async def by_distributor(self, campaign_id: UUID) -> list[DistributorStats]:
        """The campaign's own merchant and every partner it allocated to: what each gave
        out, and how much of that was redeemed."""
        ...

    async def stats(self, *, campaign_id: UUID, now: datetime) -> CampaignStats:
        """Counts by status; `by_outlet` is left empty for the redemptions to fill."""
        ...


class CustomerLimitStore(Protocol):
    async def take(self, *, campaign_id: UUID, user_id: UUID, limit: int) -> bool:
        """Count one more coupon for the customer in one conditional statement; False when
        they already hold `limit`."""
        ...


class RedemptionStore(Protocol):
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
        """In one statement: the coupon, if active and unexpired and its campaign active
        and started at `now`, becomes redeemed, the redemption and `event` are recorded
        and the campaign counts it. None, and nothing changed, when the coupon or its
        campaign was not so."""
        ...

    async def live_for(self, coupon_id: UUID) -> Redemption | None:
        """The coupon's redemption that has not been reversed."""
        ...

    async def reverse(
        self, *, redemption_id: UUID, reversed_by: str, reason: str, now: datetime
    ) -> bool: ...

    async def redeemed_by_outlet(self, campaign_id: UUID) -> list[tuple[UUID, int]]: ...


class TransferStore(Protocol):
    async def get(self, transfer_id: UUID) -> tuple[Transfer, Coupon, Campaign] | None: ...

    async def by_idempotency_key(self, *, sender_user_id: UUID, key: str) -> Transfer | None: ...

    async def create(
        self,
        *,
        transfer_id: UUID,
        coupon: Coupon,
        claim_token_hash: str,
        idempotency_key: str | None,
        now: datetime,
        expires_at: datetime,
        event: DomainEvent,
    ) -> Coupon | None:
        """In one statement: the owner's active, unexpired coupon of a transferable campaign
        is held, the transfer and `event` recorded; the held coupon, or None and nothing
        changed."""
        ...

    async def rotate_token(
        self,
        *,
        transfer_id: UUID,
        from_generation: int,
        claim_token_hash: str,
        now: datetime,
        event: DomainEvent,
    ) -> bool:
        """In one statement: the pending, unexpired transfer still at `from_generation`
        moves to the next generation and `claim_token_hash`, with `event`; False and
        nothing changed otherwise (closed, lapsed, or rotated meanwhile)."""
        ...

    async def forget_idempotency_key(self, *, transfer_id: UUID) -> None:
        """The sender's Idempotency-Key, past its retention, no longer names this gift."""
        ...

    async def accept(
        self,
        *,
        transfer_id: UUID,
        recipient_user_id: UUID,
        claim_token_hash: str,
        new_code: str,
        now: datetime,
        events: Sequence[DomainEvent],
    ) -> GiftOutcome:
        """In one statement: a pending, unexpired transfer with this token hash, not the
        recipient's own, gives its held, unexpired coupon of a running campaign to the
        recipient under `new_code`, counted against the recipient's per-customer limit, and
        closes, with `events`."""
        ...

    async def close(
        self, *, transfer: Transfer, status: TransferStatus, now: datetime, event: DomainEvent
    ) -> tuple[bool, Coupon | None]:
        """In one statement: the pending transfer closes with `status` and its coupon, if
        still held, is active again. (whether it closed, the freed coupon)."""
        ...

    async def lapsed(self, *, now: datetime, limit: int) -> list[Transfer]: ...

    async def of_user(
        self, *, user_id: UUID, role: str | None, page: PageRequest
    ) -> Page[Transfer]: ...


class ListingStore(Protocol):
    async def get(self, listing_id: UUID) -> tuple[Listing, Coupon, Campaign] | None: ...

    async def create(
        self, *, listing_id: UUID, coupon: Coupon, wants: Wants, now: datetime, event: DomainEvent
    ) -> Coupon | None:
        """In one statement: the owner's active, unexpired coupon of a tradable campaign is
        held, the listing and `event` recorded; the held coupon, or None."""
        ...

    async def accept(
        self,
        *,
        listing_id: UUID,
        taker_user_id: UUID,
        offered_coupon_id: UUID,
        code_for_taker: str,
        code_for_owner: str,
        now: datetime,
        events: Sequence[DomainEvent],
    ) -> SwapOutcome:
        """In one statement, all or nothing: the open listing, its held coupon and the
        fitting offered coupon swap owners under the new codes, with `events`."""
        ...

    async def close(
        self, *, listing: Listing, status: ListingStatus, now: datetime, event: DomainEvent
    ) -> tuple[bool, Coupon | None]:
        """In one statement: the open listing closes with `status` (cancelled, expired) and
        its coupon, if still held, is active again. (whether it closed, the freed coupon)."""
        ...

    async def expired(self, *, now: datetime, limit: int) -> list[Listing]:
        """Open listings whose coupon ran out, locked for closing (other sweeps skip them)."""
        ...

    async def open_listings(
        self,
        *,
        campaign_id: UUID | None,
        merchant_id: UUID | None,
        now: datetime,
        page: PageRequest,
    ) -> Page[Listing]: ...

    async def of_owner(self, *, owner_user_id: UUID, page: PageRequest) -> Page[Listing]: ...


class AllocationStore(Protocol):
    async def get(self, allocation_id: UUID) -> Allocation | None: ...

    async def create(
        self,
        *,
        allocation_id: UUID,
        campaign: Campaign,
        partner_merchant_id: UUID,
        quantity: int,
        created_by: str,
        now: datetime,
        statuses: frozenset[CampaignStatus],
        event: DomainEvent,
    ) -> Allocation | None:
        """In one statement: `quantity` units taken from the campaign (while in `statuses`
        and as long as its total allows) and the allocation and `event` recorded; None
        when the campaign did not allow it."""
        ...

    async def issue(
        self,
        *,
        allocation: Allocation,
        campaign: Campaign,
        coupon_id: UUID,
        owner_user_id: UUID,
        code: str,
        limit: int,
        issued_at: datetime,
        expires_at: datetime,
        event: DomainEvent,
    ) -> IssueOutcome:
        """As CouponStore.issue, the unit taken from the allocation instead of the campaign."""
        ...

    async def of_campaign(self, *, campaign_id: UUID, page: PageRequest) -> Page[Allocation]: ...

    async def of_partner(
        self, *, partner_merchant_id: UUID, page: PageRequest
    ) -> Page[Allocation]: ...


class CodeExport(Protocol):
    def batches(self, campaign_id: UUID) -> AsyncIterator[list[str]]:
        """A campaign's unassigned codes in order, a batch at a time, read outside the
        request's transaction (the response streams after it has ended)."""
        ...


class MerchantDirectory(Protocol):
    async def merchant(self, merchant_id: UUID) -> Merchant | None:
        """None when svc-merchants does not know it or will not show it to the caller."""
        ...

    async def outlet_ids(
        self, merchant_id: UUID, *, including: Collection[UUID] = ()
    ) -> frozenset[UUID]:
        """The merchant's outlets; fresh from the source when `including` are not all known
        to a cached answer (an outlet may be younger than the cache)."""
        ...


class AuditReader(Protocol):
    async def history(self, entity_type: str, entity_id: str) -> list[dict[str, Any]]: ...


class EventLog(Protocol):
    async def add(self, event: DomainEvent) -> None: ...
