"""The swap marketplace: an owner lists a coupon and says what they want for it; another
customer offers a matching coupon of their own, and both change hands, under new codes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from uuid import UUID, uuid4

from core.auth import Principal
from core.clock import utcnow
from core.pagination import Page, PageRequest
from svc_coupons.services.access import customer_id
from svc_coupons.services.caller_limits import UNLIMITED, CallerLimits
from svc_coupons.services.coupons import coupons_with_campaigns
from svc_coupons.services.data_model.campaigns import Campaign, CampaignStatus
from svc_coupons.services.data_model.coupons import Coupon, CouponDetails
from svc_coupons.services.data_model.exchange import (
    Listing,
    ListingDetails,
    ListingStatus,
    Swap,
    Wants,
)
from svc_coupons.services.errors import (
    CouponNotFound,
    InvalidWants,
    LimitReached,
    ListingClosed,
    ListingNotFound,
    NotTradable,
    OfferMismatch,
    OwnListing,
)
from svc_coupons.services.events import coupon_event
from svc_coupons.services.exchange_access import (
    own_coupon,
    require_active,
    require_merchants_trading,
    require_trading,
)
from svc_coupons.services.ports import (
    CampaignStore,
    CouponStore,
    ListingStore,
    MerchantDirectory,
)
from svc_coupons.utils.codes import new_code

CODE_ATTEMPTS = 5


class ListingService:
    def __init__(
        self,
        *,
        listings: ListingStore,
        coupons: CouponStore,
        campaigns: CampaignStore,
        merchants: MerchantDirectory,
        caller_limits: CallerLimits = UNLIMITED,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._listings = listings
        self._coupons = coupons
        self._campaigns = campaigns
        self._merchants = merchants
        self._caller_limits = caller_limits
        self._clock = clock

    @staticmethod
    def _details(
        listing: Listing, coupon: Coupon, campaign: Campaign, now: datetime
    ) -> ListingDetails:
        return ListingDetails(
            listing=listing,
            coupon=CouponDetails(coupon=coupon, campaign=campaign, status=coupon.status_at(now)),
            status=ListingDetails.status_of(listing, coupon, now),
        )

    async def _check_wants(self, wants: Wants) -> None:
        if wants.campaign_id is None:
            return
        wanted = await self._campaigns.get(wants.campaign_id)
        # A draft is its merchant's secret; an ended campaign's coupons are gone.
        if wanted is None or wanted.status in (CampaignStatus.DRAFT, CampaignStatus.ENDED):
            raise InvalidWants("wants.campaign_id is no live campaign")
        if wants.merchant_id is not None and wanted.merchant_id != wants.merchant_id:
            raise InvalidWants("wants.campaign_id is not a campaign of wants.merchant_id")

    async def create(self, *, principal: Principal, code: str, wants: Wants) -> ListingDetails:
        """List the caller's active coupon of a tradable campaign: it is held until the
        listing is accepted or cancelled."""
        self._caller_limits.write(principal)
        coupon, campaign = await own_coupon(self._coupons, principal, code)
        now = self._clock()
        require_active(coupon, now)
        if not campaign.terms.tradable:
            raise NotTradable()
        require_trading(campaign)
        await require_merchants_trading(self._merchants, coupon)
        await self._check_wants(wants)
        listing_id = uuid4()
        held = await self._listings.create(
            listing_id=listing_id,
            coupon=coupon,
            wants=wants,
            now=now,
            event=coupon_event(
                "listing.created",
                coupon_id=coupon.id,
                actor=principal,
                data={
                    "listing_id": str(listing_id),
                    "wants_campaign_id": str(wants.campaign_id) if wants.campaign_id else None,
                    "wants_merchant_id": str(wants.merchant_id) if wants.merchant_id else None,
                },
            ),
        )
        if held is None:  # changed since it was read: answer with what it is now
            current = await self._coupons.by_code(coupon.code)
            if current is None:
                raise CouponNotFound()
            require_active(current, now)
            running = await self._campaigns.get(coupon.campaign_id)
            assert running is not None, "a coupon's campaign is never deleted"
            require_trading(running)
            raise ListingClosed("The coupon was given or listed meanwhile")
        listing = Listing(
            id=listing_id,
            coupon_id=coupon.id,
            owner_user_id=customer_id(principal),
            campaign_id=coupon.campaign_id,
            merchant_id=coupon.merchant_id,
            wants=wants,
            stored_status=ListingStatus.OPEN,
            created_at=now,
            closed_at=None,
            accepted_by_user_id=None,
            offered_coupon_id=None,
        )
        return self._details(listing, held, campaign, now)

    async def _load(self, listing_id: UUID) -> tuple[Listing, Coupon, Campaign]:
        found = await self._listings.get(listing_id)
        if found is None:
            raise ListingNotFound()
        return found

    async def get(self, *, principal: Principal, listing_id: UUID) -> ListingDetails:
        """Open listings for every customer; a closed one for its owner and its taker."""
        listing, coupon, campaign = await self._load(listing_id)
        details = self._details(listing, coupon, campaign, self._clock())
        if details.status is not ListingStatus.OPEN and not principal.is_user(
            listing.owner_user_id, listing.accepted_by_user_id
        ):
            raise ListingNotFound()
        return details

    async def _with_coupons(self, listings: list[Listing]) -> list[ListingDetails]:
        coupons = await coupons_with_campaigns(
            self._coupons, self._campaigns, {x.coupon_id for x in listings}
        )
        now = self._clock()
        return [self._details(x, *coupons[x.coupon_id], now) for x in listings]

    async def list_open(
        self,
        *,
        principal: Principal,
        campaign_id: UUID | None,
        merchant_id: UUID | None,
        page: PageRequest,
    ) -> Page[ListingDetails]:
        """Open listings, newest first; one whose coupon expired is not open."""
        customer_id(principal)
        found = await self._listings.open_listings(
            campaign_id=campaign_id, merchant_id=merchant_id, now=self._clock(), page=page
        )
        return Page(items=await self._with_coupons(found.items), next_cursor=found.next_cursor)

    async def list_own(self, *, principal: Principal, page: PageRequest) -> Page[ListingDetails]:
        """The caller's listings in any status, newest first."""
        found = await self._listings.of_owner(owner_user_id=customer_id(principal), page=page)
        return Page(items=await self._with_coupons(found.items), next_cursor=found.next_cursor)

    async def _offer(
        self, principal: Principal, code: str, listing: Listing, now: datetime
    ) -> tuple[Coupon, Campaign]:
        offered, campaign = await own_coupon(self._coupons, principal, code)
        require_active(offered, now)
        if not campaign.terms.tradable:
            raise NotTradable()
        if not listing.wants.matched_by(offered):
            raise OfferMismatch()
        return offered, campaign

    async def accept(self, *, principal: Principal, listing_id: UUID, offered_code: str) -> Swap:
        """Both coupons change owner, each under a new code, in one statement; of any number
        of concurrent accepts, one swaps and the others keep their coupons."""
        self._caller_limits.write(principal)
        taker = customer_id(principal)
        listing, listed, listed_campaign = await self._load(listing_id)
        if principal.is_user(listing.owner_user_id):
            raise OwnListing()
        now = self._clock()
        if ListingDetails.status_of(listing, listed, now) is not ListingStatus.OPEN:
            raise ListingClosed()
        offered, offered_campaign = await self._offer(principal, offered_code, listing, now)
        require_trading(listed_campaign, offered_campaign)
        await require_merchants_trading(self._merchants, listed, offered)
        owner = listing.owner_user_id
        swapped = {"listing_id": str(listing.id), "via": "listing"}
        events = (
            coupon_event(
                "listing.accepted",
                coupon_id=listed.id,
                actor=principal,
                data={
                    "listing_id": str(listing.id),
                    "offered_coupon_id": str(offered.id),
                    "accepted_by_user_id": str(taker),
                },
            ),
            coupon_event(
                "coupon.transferred",
                coupon_id=listed.id,
                actor=principal,
                data=swapped | {"from_user_id": str(owner), "to_user_id": str(taker)},
            ),
            coupon_event(
                "coupon.transferred",
                coupon_id=offered.id,
                actor=principal,
                data=swapped | {"from_user_id": str(taker), "to_user_id": str(owner)},
            ),
        )
        for _ in range(CODE_ATTEMPTS):
            outcome = await self._listings.accept(
                listing_id=listing.id,
                taker_user_id=taker,
                offered_coupon_id=offered.id,
                code_for_taker=new_code(),
                code_for_owner=new_code(),
                now=now,
                events=events,
            )
            if outcome.received is not None and outcome.given is not None:
                accepted = replace(
                    listing,
                    stored_status=ListingStatus.ACCEPTED,
                    closed_at=now,
                    accepted_by_user_id=taker,
                    offered_coupon_id=offered.id,
                )
                received = CouponDetails(
                    coupon=outcome.received,
                    campaign=listed_campaign,
                    status=outcome.received.status_at(now),
                )
                given = CouponDetails(
                    coupon=outcome.given,
                    campaign=offered_campaign,
                    status=outcome.given.status_at(now),
                )
                return Swap(
                    listing=self._details(accepted, outcome.received, listed_campaign, now),
                    received=received,
                    given=given,
                )
            if outcome.limit_reached:  # nothing moved, nothing counted: the listing stays open
                raise LimitReached()
            if not (outcome.listing_open and outcome.listed_held and outcome.offer_fits):
                break
            if not outcome.code_taken:
                raise RuntimeError("the swap found everything in place and still did not happen")
        else:
            raise RuntimeError("no free coupon codes after several draws: is the generator broken?")
        # Refused by the statement: something changed since the reads. Say what it is now.
        listing, listed, listed_campaign = await self._load(listing_id)
        if ListingDetails.status_of(listing, listed, now) is not ListingStatus.OPEN:
            raise ListingClosed()
        if await self._coupons.by_code(offered.code) is None:
            raise CouponNotFound()  # given or swapped away meanwhile: it has a new code
        _, offered_campaign = await self._offer(principal, offered.code, listing, now)
        require_trading(listed_campaign, offered_campaign)
        raise ListingClosed()

    async def cancel(self, *, principal: Principal, listing_id: UUID) -> CouponDetails:
        """The owner takes the coupon back: active again in their wallet."""
        listing, coupon, campaign = await self._load(listing_id)
        if not principal.is_user(listing.owner_user_id):
            raise ListingNotFound()
        now = self._clock()
        if listing.stored_status is not ListingStatus.OPEN:
            raise ListingClosed(f"The listing was {listing.stored_status.value}")
        closed, freed = await self._listings.close(
            listing=listing,
            status=ListingStatus.CANCELLED,
            now=now,
            event=coupon_event(
                "listing.cancelled",
                coupon_id=coupon.id,
                actor=principal,
                data={"listing_id": str(listing.id)},
            ),
        )
        if not closed:
            raise ListingClosed("The listing was accepted meanwhile")
        coupon = freed or coupon  # not freed: voided by the merchant while it was listed
        return CouponDetails(coupon=coupon, campaign=campaign, status=coupon.status_at(now))

    async def close_expired(self, *, batch: int) -> int:
        """The sweep: open listings whose coupon ran out close as expired, and their coupons
        go back to their owners (reading as expired). Returns how many closed."""
        now = self._clock()
        closed = 0
        for listing in await self._listings.expired(now=now, limit=batch):
            done, _ = await self._listings.close(
                listing=listing,
                status=ListingStatus.EXPIRED,
                now=now,
                event=coupon_event(
                    "listing.expired",
                    coupon_id=listing.coupon_id,
                    actor=None,
                    data={"listing_id": str(listing.id)},
                ),
            )
            closed += done
        return closed
