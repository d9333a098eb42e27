"""One coupon by its code: lookup, validate, redeem, reverse, void, history."""

from __future__ import annotations

from fastapi import status

from core.errors import Forbidden, TooManyRequests
from core.web.openapi import problems
from core.web.pagination import PageDep
from core.web.routes import service_router
from svc_coupons.controllers.dependencies import CouponsDep, RedemptionsDep
from svc_coupons.controllers.dto.coupons import (
    Coupon,
    HistoryEvent,
    HistoryEventPage,
    ReasonIn,
    RedeemIn,
    Redemption,
    ValidateIn,
    Validation,
)
from svc_coupons.controllers.rest.errors import REDEMPTION_REFUSALS
from svc_coupons.controllers.scopes import (
    ReadPrincipal,
    RedeemPrincipal,
    ValidatePrincipal,
    WritePrincipal,
)
from svc_coupons.services.errors import (
    AlreadyRedeemed,
    AuditUnavailable,
    CouponNotFound,
    CouponVoid,
    MerchantsUnavailable,
    NotRedeemed,
    ReversalWindowPassed,
)

router = service_router(prefix="/api/v1/coupons", tags=["coupons"])


@router.get(
    "/{code}",
    response_model=Coupon,
    summary="The coupon's owner, its merchant",
    operation_id="getCoupon",
    responses=problems(TooManyRequests, CouponNotFound),
)
async def lookup(code: str, principal: ReadPrincipal, coupons: CouponsDep) -> Coupon:
    return Coupon.of(await coupons.lookup(principal=principal, code=code))


@router.post(
    "/{code}/validate",
    response_model=Validation,
    status_code=status.HTTP_200_OK,
    summary="Owner, staff, partner client: would redeem succeed? Changes nothing",
    operation_id="validateCoupon",
    responses=problems(TooManyRequests, CouponNotFound, Forbidden, MerchantsUnavailable),
)
async def validate(
    code: str, body: ValidateIn, principal: ValidatePrincipal, redemptions: RedemptionsDep
) -> Validation:
    validation = await redemptions.validate(
        principal=principal, code=code, outlet_id=body.outlet_id, order_amount=body.order_amount
    )
    return Validation.of(validation)


@router.post(
    "/{code}/redeem",
    response_model=Redemption,
    status_code=status.HTTP_200_OK,
    summary="Owner, staff, partner client with coupons:redeem: use the coupon",
    operation_id="redeemCoupon",
    responses=problems(
        TooManyRequests, CouponNotFound, Forbidden, *REDEMPTION_REFUSALS, MerchantsUnavailable
    ),
)
async def redeem(
    code: str, body: RedeemIn, principal: RedeemPrincipal, redemptions: RedemptionsDep
) -> Redemption:
    receipt = await redemptions.redeem(
        principal=principal,
        code=code,
        outlet_id=body.outlet_id,
        order_reference=body.order_reference,
        order_amount=body.order_amount,
    )
    return Redemption.of(receipt)


@router.post(
    "/{code}/reverse-redemption",
    response_model=Coupon,
    status_code=status.HTTP_200_OK,
    summary="Owner: undo a redemption of the last 24 hours",
    operation_id="reverseRedemption",
    responses=problems(CouponNotFound, Forbidden, NotRedeemed, ReversalWindowPassed),
)
async def reverse_redemption(
    code: str, body: ReasonIn, principal: RedeemPrincipal, redemptions: RedemptionsDep
) -> Coupon:
    details = await redemptions.reverse(principal=principal, code=code, reason=body.reason)
    return Coupon.of(details)


@router.post(
    "/{code}/void",
    response_model=Coupon,
    status_code=status.HTTP_200_OK,
    summary="Owner, admin: make the coupon unusable for good",
    operation_id="voidCoupon",
    responses=problems(CouponNotFound, Forbidden, CouponVoid, AlreadyRedeemed),
)
async def void(
    code: str, body: ReasonIn, principal: WritePrincipal, redemptions: RedemptionsDep
) -> Coupon:
    return Coupon.of(await redemptions.void(principal=principal, code=code, reason=body.reason))


@router.get(
    "/{code}/history",
    response_model=HistoryEventPage,
    summary="Coupon owner, merchant members, admin: its audit events, oldest first",
    operation_id="getCouponHistory",
    responses=problems(TooManyRequests, CouponNotFound, AuditUnavailable),
)
async def history(
    code: str, principal: ReadPrincipal, coupons: CouponsDep, page: PageDep
) -> HistoryEventPage:
    found = await coupons.history(principal=principal, code=code, page=page)
    return HistoryEventPage(
        items=[HistoryEvent.of(e) for e in found.items], next_cursor=found.next_cursor
    )
