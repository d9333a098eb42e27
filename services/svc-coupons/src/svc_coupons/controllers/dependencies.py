"""FastAPI dependency aliases for the controllers: the services, ready to call."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core.web.routes import SessionDep
from svc_coupons.components import CouponsComponents
from svc_coupons.services.campaigns import CampaignService
from svc_coupons.services.coupons import CouponService
from svc_coupons.services.issuing import IssuingService
from svc_coupons.services.redemption import RedemptionService


async def components(request: Request) -> CouponsComponents:
    parts: CouponsComponents = request.app.state.coupons
    return parts


async def caller_authorization(request: Request) -> str | None:
    """The caller's own credentials, forwarded when svc-merchants is asked on their behalf."""
    return request.headers.get("authorization")


ComponentsDep = Annotated[CouponsComponents, Depends(components)]
AuthorizationDep = Annotated[str | None, Depends(caller_authorization)]


async def _campaigns(
    parts: ComponentsDep, session: SessionDep, authorization: AuthorizationDep
) -> CampaignService:
    return parts.campaigns(session, authorization=authorization)


async def _issuing(
    parts: ComponentsDep, session: SessionDep, authorization: AuthorizationDep
) -> IssuingService:
    return parts.issuing(session, authorization=authorization)


async def _coupons(parts: ComponentsDep, session: SessionDep) -> CouponService:
    return parts.coupons(session)


async def _redemptions(
    parts: ComponentsDep, session: SessionDep, authorization: AuthorizationDep
) -> RedemptionService:
    return parts.redemptions(session, authorization=authorization)


CampaignsDep = Annotated[CampaignService, Depends(_campaigns)]
IssuingDep = Annotated[IssuingService, Depends(_issuing)]
CouponsDep = Annotated[CouponService, Depends(_coupons)]
RedemptionsDep = Annotated[RedemptionService, Depends(_redemptions)]
