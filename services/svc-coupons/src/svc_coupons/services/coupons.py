"""A customer's wallet, looking a coupon up by its code, and its history."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from uuid import UUID

from core.auth import Principal
from core.clock import utcnow
from core.pagination import InvalidCursor, Page, PageRequest, decode_cursor, encode_cursor
from svc_coupons.services.access import customer_id, may_read_coupon
from svc_coupons.services.caller_limits import UNLIMITED, CallerLimits
from svc_coupons.services.data_model.campaigns import Campaign
from svc_coupons.services.data_model.coupons import (
    AuditEntry,
    Coupon,
    CouponDetails,
    WalletFilter,
)
from svc_coupons.services.errors import CouponNotFound, InvalidStatusFilter
from svc_coupons.services.ports import AuditReader, CampaignStore, CouponStore
from svc_coupons.utils.codes import is_well_formed, normalise_code


async def find_coupon(coupons: CouponStore, code: str) -> tuple[Coupon, Campaign]:
    """The coupon with its campaign, read together; CouponNotFound when there is none."""
    normalised = normalise_code(code)
    found = await coupons.with_campaign(normalised) if is_well_formed(normalised) else None
    if found is None:
        raise CouponNotFound()
    return found


async def campaigns_of(
    campaigns: CampaignStore, coupons: Collection[Coupon]
) -> dict[UUID, Campaign]:
    """The coupons' campaigns by id, in one query."""
    return {c.id: c for c in await campaigns.get_many({c.campaign_id for c in coupons})}


async def coupons_with_campaigns(
    coupons: CouponStore, campaigns: CampaignStore, coupon_ids: Collection[UUID]
) -> dict[UUID, tuple[Coupon, Campaign]]:
    """Coupons by id with their campaigns: one query for the coupons, one for the campaigns."""
    found = await coupons.get_many(coupon_ids)
    by_id = await campaigns_of(campaigns, found)
    return {c.id: (c, by_id[c.campaign_id]) for c in found}


class CouponService:
    def __init__(
        self,
        *,
        campaigns: CampaignStore,
        coupons: CouponStore,
        audit: AuditReader,
        caller_limits: CallerLimits = UNLIMITED,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._campaigns = campaigns
        self._coupons = coupons
        self._audit = audit
        self._caller_limits = caller_limits
        self._clock = clock

    async def _details(self, coupons: list[Coupon]) -> list[CouponDetails]:
        """Coupons with their campaigns, in one query for all the campaigns."""
        campaigns = await campaigns_of(self._campaigns, coupons)
        now = self._clock()
        return [
            CouponDetails(
                coupon=coupon, campaign=campaigns[coupon.campaign_id], status=coupon.status_at(now)
            )
            for coupon in coupons
        ]

    async def _readable(self, principal: Principal, code: str) -> tuple[Coupon, Campaign]:
        """The coupon, for its readers (lookup and history alike); 404 for anyone else."""
        coupon, campaign = await find_coupon(self._coupons, code)
        if not may_read_coupon(
            principal, merchant_id=coupon.merchant_id, owner_user_id=coupon.owner_user_id
        ):
            raise CouponNotFound()
        return coupon, campaign

    async def wallet(
        self, *, principal: Principal, status: str | None, page: PageRequest
    ) -> Page[CouponDetails]:
        user_id = customer_id(principal)
        try:
            wallet_filter = WalletFilter(status) if status else None
        except ValueError:
            raise InvalidStatusFilter("status is active or history") from None
        coupons = await self._coupons.wallet(
            owner_user_id=user_id, wallet_filter=wallet_filter, now=self._clock(), page=page
        )
        return Page(items=await self._details(coupons.items), next_cursor=coupons.next_cursor)

    async def lookup(self, *, principal: Principal, code: str) -> CouponDetails:
        """For the coupon's owner, its merchant's owner or staff, and admins."""
        self._caller_limits.lookup(principal)
        coupon, campaign = await self._readable(principal, code)
        return CouponDetails(
            coupon=coupon, campaign=campaign, status=coupon.status_at(self._clock())
        )

    async def history(
        self, *, principal: Principal, code: str, page: PageRequest
    ) -> Page[AuditEntry]:
        """The coupon's audit events, oldest first, as the audit trail recorded them; for
        whoever may look the coupon up. AuditUnavailable (503) when the trail cannot be
        read. A page's cursor is its last event's id: the trail is read whole (a coupon's
        events are few) and the page begins after that event. A code lookup too: it
        answers for a code as the lookup does, so it counts against the same ceiling."""
        self._caller_limits.lookup(principal)
        coupon, _ = await self._readable(principal, code)
        entries = await self._audit.history("coupon", str(coupon.id))
        start = 0
        if page.cursor is not None:
            (after,) = decode_cursor(page.cursor, 1)
            positions = [i for i, entry in enumerate(entries) if entry["event_id"] == after]
            if not positions:
                raise InvalidCursor()
            start = positions[0] + 1
        chosen = entries[start : start + page.limit]
        more = start + page.limit < len(entries)
        return Page(
            items=[
                AuditEntry(
                    event_id=entry["event_id"],
                    type=entry["type"],
                    actor=entry.get("actor"),
                    at=entry["at"],
                    data=entry.get("data") or {},
                )
                for entry in chosen
            ],
            next_cursor=encode_cursor(chosen[-1]["event_id"]) if more and chosen else None,
        )
