"""The customer's own coupons."""

from __future__ import annotations

from core.errors import Forbidden
from core.web.openapi import problems
from core.web.pagination import PageDep
from core.web.routes import service_router
from svc_coupons.controllers.dependencies import CouponsDep
from svc_coupons.controllers.dto.coupons import Coupon, CouponPage
from svc_coupons.controllers.scopes import ReadPrincipal
from svc_coupons.services.data_model.coupons import WalletFilter
from svc_coupons.services.errors import InvalidStatusFilter

router = service_router(prefix="/api/v1/wallet", tags=["wallet"])


@router.get(
    "",
    response_model=CouponPage,
    summary="Own coupons: ?status=active (usable now) or history (redeemed, expired, void)",
    operation_id="listWallet",
    responses=problems(Forbidden, InvalidStatusFilter),
)
async def wallet(
    principal: ReadPrincipal,
    coupons: CouponsDep,
    page: PageDep,
    status: WalletFilter | None = None,
) -> CouponPage:
    found = await coupons.wallet(principal=principal, status=status, page=page)
    return CouponPage(items=[Coupon.of(c) for c in found.items], next_cursor=found.next_cursor)
