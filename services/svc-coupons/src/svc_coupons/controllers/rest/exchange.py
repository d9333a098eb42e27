"""The swap marketplace: listings of coupons offered for others."""

from __future__ import annotations

from uuid import UUID

from fastapi import status

from core.errors import Forbidden, TooManyRequests
from core.web.openapi import problems
from core.web.pagination import PageDep
from core.web.routes import service_router
from svc_coupons.controllers.dependencies import ListingsDep
from svc_coupons.controllers.dto.coupons import Coupon
from svc_coupons.controllers.dto.exchange import (
    AcceptListingIn,
    Listing,
    ListingIn,
    ListingPage,
    Swap,
)
from svc_coupons.controllers.rest.errors import DEAD_COUPON, NOT_ACTIVE_COUPON
from svc_coupons.controllers.scopes import ReadPrincipal, WritePrincipal
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

router = service_router(prefix="/api/v1/exchange/listings", tags=["listings"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Listing,
    summary="Coupon owner: offer a coupon of a tradable campaign for one matching `wants`",
    operation_id="createListing",
    responses=problems(
        TooManyRequests,
        CouponNotFound,
        Forbidden,
        *NOT_ACTIVE_COUPON,
        NotTradable,
        *DEAD_COUPON,
        InvalidWants,
        ListingClosed,
    ),
)
async def create_listing(
    body: ListingIn, principal: WritePrincipal, listings: ListingsDep
) -> Listing:
    details = await listings.create(
        principal=principal, code=body.coupon_code, wants=body.wants.wants()
    )
    return Listing.of(details)


@router.get(
    "",
    response_model=ListingPage,
    summary="Customers: open listings, newest first; ?campaign_id=, ?merchant_id=, ?mine=true",
    operation_id="listListings",
    responses=problems(Forbidden),
)
async def list_listings(
    principal: ReadPrincipal,
    listings: ListingsDep,
    page: PageDep,
    campaign_id: UUID | None = None,
    merchant_id: UUID | None = None,
    mine: bool = False,
) -> ListingPage:
    if mine:
        found = await listings.list_own(principal=principal, page=page)
    else:
        found = await listings.list_open(
            principal=principal, campaign_id=campaign_id, merchant_id=merchant_id, page=page
        )
    return ListingPage(items=[Listing.of(x) for x in found.items], next_cursor=found.next_cursor)


@router.get(
    "/{listing_id}",
    response_model=Listing,
    summary="An open listing; own ones always",
    operation_id="getListing",
    responses=problems(ListingNotFound),
)
async def get_listing(listing_id: UUID, principal: ReadPrincipal, listings: ListingsDep) -> Listing:
    return Listing.of(await listings.get(principal=principal, listing_id=listing_id))


@router.post(
    "/{listing_id}/accept",
    response_model=Swap,
    summary="Another customer: swap one of their coupons matching `wants`; both get new codes",
    operation_id="acceptListing",
    responses=problems(
        TooManyRequests,
        ListingNotFound,
        OwnListing,
        ListingClosed,
        CouponNotFound,
        Forbidden,
        *NOT_ACTIVE_COUPON,
        NotTradable,
        OfferMismatch,
        *DEAD_COUPON,
        LimitReached,
    ),
)
async def accept_listing(
    listing_id: UUID, body: AcceptListingIn, principal: WritePrincipal, listings: ListingsDep
) -> Swap:
    swap = await listings.accept(
        principal=principal, listing_id=listing_id, offered_code=body.offered_coupon_code
    )
    return Swap.of(swap)


@router.post(
    "/{listing_id}/cancel",
    response_model=Coupon,
    summary="The listing's owner: take the coupon back, active again",
    operation_id="cancelListing",
    responses=problems(ListingNotFound, ListingClosed),
)
async def cancel_listing(
    listing_id: UUID, principal: WritePrincipal, listings: ListingsDep
) -> Coupon:
    return Coupon.of(await listings.cancel(principal=principal, listing_id=listing_id))
