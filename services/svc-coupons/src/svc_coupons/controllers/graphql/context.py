from __future__ import annotations

from fastapi import Request
from strawberry.fastapi import BaseContext

from core.auth import Principal
from core.errors import Unauthenticated
from core.web.graphql import principal_of
from core.web.routes import get_session
from svc_coupons.components import CouponsComponents
from svc_coupons.controllers.scopes import require_any
from svc_coupons.services.allocations import AllocationService
from svc_coupons.services.campaigns import CampaignService
from svc_coupons.services.coupons import CouponService
from svc_coupons.services.issuing import IssuingService
from svc_coupons.services.listings import ListingService
from svc_coupons.services.redemption import RedemptionService
from svc_coupons.services.transfers import TransferService


class CouponsContext(BaseContext):
    """Per request: the caller and the services over the request's unit of work."""

    def __init__(self, request: Request) -> None:
        super().__init__()
        parts: CouponsComponents = request.app.state.coupons
        session = get_session(request)
        authorization = request.headers.get("authorization")
        self._request = request
        self.campaigns: CampaignService = parts.campaigns(session, authorization=authorization)
        self.issuing: IssuingService = parts.issuing(session, authorization=authorization)
        self.coupons: CouponService = parts.coupons(session)
        self.redemptions: RedemptionService = parts.redemptions(
            session, authorization=authorization
        )
        self.transfers: TransferService = parts.transfers(session, authorization=authorization)
        self.listings: ListingService = parts.listings(session, authorization=authorization)
        self.allocations: AllocationService = parts.allocations(
            session, authorization=authorization
        )

    @property
    def http_request(self) -> Request:
        return self._request

    def optional_principal(self) -> Principal | None:
        principal: Principal | None = principal_of(self._request)
        return principal

    def principal(self, scopes: tuple[str, ...]) -> Principal:
        """The caller, whose token carries one of `scopes` (controllers.scopes): what the
        REST route of the same operation requires."""
        principal = self.optional_principal()
        if principal is None:
            raise Unauthenticated()
        return require_any(principal, scopes)


async def get_context(request: Request) -> CouponsContext:
    return CouponsContext(request)
