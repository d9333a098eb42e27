"""FastAPI dependency aliases for the controllers: the services, ready to call.

One dependency per service, reading what it needs from the request itself: FastAPI
spends more on each node of a dependency tree than these functions do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core.web.routes import get_session
from svc_coupons.components import CouponsComponents
from svc_coupons.services.allocations import AllocationService
from svc_coupons.services.campaigns import CampaignService
from svc_coupons.services.coupons import CouponService
from svc_coupons.services.issuing import IssuingService
from svc_coupons.services.listings import ListingService
from svc_coupons.services.redemption import RedemptionService
from svc_coupons.services.transfers import TransferService


def _components(request: Request) -> CouponsComponents:
    parts: CouponsComponents = request.app.state.coupons
    return parts


def _authorization(request: Request) -> str | None:
    """The caller's own credentials, forwarded when svc-merchants is asked on their behalf."""
    return request.headers.get("authorization")


async def _campaigns(request: Request) -> CampaignService:
    return _components(request).campaigns(
        get_session(request), authorization=_authorization(request)
    )


async def _issuing(request: Request) -> IssuingService:
    return _components(request).issuing(get_session(request), authorization=_authorization(request))


async def _coupons(request: Request) -> CouponService:
    return _components(request).coupons(get_session(request))


async def _redemptions(request: Request) -> RedemptionService:
    return _components(request).redemptions(
        get_session(request), authorization=_authorization(request)
    )


async def _transfers(request: Request) -> TransferService:
    return _components(request).transfers(
        get_session(request), authorization=_authorization(request)
    )


async def _listings(request: Request) -> ListingService:
    return _components(request).listings(
        get_session(request), authorization=_authorization(request)
    )


async def _allocations(request: Request) -> AllocationService:
    return _components(request).allocations(
        get_session(request), authorization=_authorization(request)
    )


CampaignsDep = Annotated[CampaignService, Depends(_campaigns)]
IssuingDep = Annotated[IssuingService, Depends(_issuing)]
CouponsDep = Annotated[CouponService, Depends(_coupons)]
RedemptionsDep = Annotated[RedemptionService, Depends(_redemptions)]
TransfersDep = Annotated[TransferService, Depends(_transfers)]
ListingsDep = Annotated[ListingService, Depends(_listings)]
AllocationsDep = Annotated[AllocationService, Depends(_allocations)]
