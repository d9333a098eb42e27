"""Merchants: apply, read, list, change; an admin verifies, suspends and reinstates."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query, status

from core.auth.dependencies import AdminPrincipal, OptionalPrincipal
from core.errors import Forbidden
from core.web.openapi import problems
from core.web.pagination import PageDep
from core.web.routes import service_router
from svc_merchants.controllers.dependencies import MerchantsDep, WritePrincipal
from svc_merchants.controllers.dto.merchants import (
    ApplyForMerchantInput,
    Merchant,
    MerchantPage,
    SuspendMerchantInput,
    UpdateMerchantInput,
)
from svc_merchants.services.data_model.merchants import MerchantStatus
from svc_merchants.services.errors import (
    InvalidCountry,
    InvalidCurrency,
    InvalidTimezone,
    InvalidTransition,
    MerchantNotFound,
)

router = service_router(prefix="/api/v1/merchants", tags=["merchants"])

PROFILE_ERRORS = (InvalidCountry, InvalidCurrency, InvalidTimezone)
ADMIN_TRANSITION_ERRORS = problems(MerchantNotFound, Forbidden, InvalidTransition)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Merchant,
    summary="Apply for a merchant; it is pending until an admin verifies it",
    operation_id="applyForMerchant",
    responses=problems(Forbidden, *PROFILE_ERRORS),
)
async def apply(
    body: ApplyForMerchantInput, principal: WritePrincipal, merchants: MerchantsDep
) -> Merchant:
    merchant = await merchants.apply(
        principal=principal,
        name=body.name,
        country=body.country,
        currency=body.currency,
        timezone=body.timezone,
        category=body.category,
    )
    return Merchant.of(merchant)


@router.get(
    "",
    response_model=MerchantPage,
    summary="Verified merchants; admins filter by status, users list their own with mine=true",
    operation_id="listMerchants",
    responses=problems(Forbidden),
)
async def list_merchants(
    principal: OptionalPrincipal,
    merchants: MerchantsDep,
    page: PageDep,
    status_filter: Annotated[MerchantStatus | None, Query(alias="status")] = None,
    mine: Annotated[bool, Query(description="Only the caller's own applications")] = False,
) -> MerchantPage:
    found = await merchants.list_merchants(
        principal=principal, status=status_filter, mine=mine, page=page
    )
    return MerchantPage(items=[Merchant.of(m) for m in found.items], next_cursor=found.next_cursor)


@router.get(
    "/{merchant_id}",
    response_model=Merchant,
    summary="A verified merchant; the owner and admins see any status",
    operation_id="getMerchant",
    responses=problems(MerchantNotFound),
)
async def get_merchant(
    merchant_id: UUID, principal: OptionalPrincipal, merchants: MerchantsDep
) -> Merchant:
    return Merchant.of(await merchants.get(principal=principal, merchant_id=merchant_id))


@router.patch(
    "/{merchant_id}",
    response_model=Merchant,
    summary="Owner or admin: change profile fields (the applicant, while pending)",
    operation_id="updateMerchant",
    responses=problems(MerchantNotFound, Forbidden, *PROFILE_ERRORS),
)
async def update_merchant(
    merchant_id: UUID,
    body: UpdateMerchantInput,
    principal: WritePrincipal,
    merchants: MerchantsDep,
) -> Merchant:
    merchant = await merchants.update(
        principal=principal, merchant_id=merchant_id, changes=body.changes()
    )
    return Merchant.of(merchant)


@router.post(
    "/{merchant_id}/verify",
    response_model=Merchant,
    summary="Admin: pending -> verified; the applicant becomes the owner",
    operation_id="verifyMerchant",
    responses=ADMIN_TRANSITION_ERRORS,
)
async def verify(merchant_id: UUID, principal: AdminPrincipal, merchants: MerchantsDep) -> Merchant:
    return Merchant.of(await merchants.verify(principal=principal, merchant_id=merchant_id))


@router.post(
    "/{merchant_id}/suspend",
    response_model=Merchant,
    summary="Admin: verified -> suspended",
    operation_id="suspendMerchant",
    responses=ADMIN_TRANSITION_ERRORS,
)
async def suspend(
    merchant_id: UUID,
    body: SuspendMerchantInput,
    principal: AdminPrincipal,
    merchants: MerchantsDep,
) -> Merchant:
    merchant = await merchants.suspend(
        principal=principal, merchant_id=merchant_id, reason=body.reason
    )
    return Merchant.of(merchant)


@router.post(
    "/{merchant_id}/reinstate",
    response_model=Merchant,
    summary="Admin: suspended -> verified",
    operation_id="reinstateMerchant",
    responses=ADMIN_TRANSITION_ERRORS,
)
async def reinstate(
    merchant_id: UUID, principal: AdminPrincipal, merchants: MerchantsDep
) -> Merchant:
    return Merchant.of(await merchants.reinstate(principal=principal, merchant_id=merchant_id))
