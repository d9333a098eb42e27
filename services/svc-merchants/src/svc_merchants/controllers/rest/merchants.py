"""Merchants: apply, read, list, change; an admin verifies, suspends and reinstates."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query, status

from core.auth.dependencies import CurrentPrincipal, OptionalPrincipal
from core.pagination import PageOut
from core.web.pagination import PageDep
from core.web.routes import service_router
from svc_merchants.controllers.dependencies import MerchantsDep
from svc_merchants.controllers.dto.merchants import (
    MerchantIn,
    MerchantOut,
    MerchantPatch,
    SuspendIn,
)
from svc_merchants.services.data_model.merchants import MerchantStatus

router = service_router(prefix="/api/v1/merchants", tags=["merchants"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MerchantOut,
    summary="Apply for a merchant; it is pending until an admin verifies it",
)
async def apply(
    body: MerchantIn, principal: CurrentPrincipal, merchants: MerchantsDep
) -> MerchantOut:
    merchant = await merchants.apply(
        principal=principal,
        name=body.name,
        country=body.country,
        currency=body.currency,
        timezone=body.timezone,
        category=body.category,
    )
    return MerchantOut.of(merchant)


@router.get(
    "",
    response_model=PageOut[MerchantOut],
    summary="Verified merchants; admins filter by status, users list their own with mine=true",
)
async def list_merchants(
    principal: OptionalPrincipal,
    merchants: MerchantsDep,
    page: PageDep,
    status_filter: Annotated[MerchantStatus | None, Query(alias="status")] = None,
    mine: Annotated[bool, Query(description="Only the caller's own applications")] = False,
) -> PageOut[MerchantOut]:
    found = await merchants.list_merchants(
        principal=principal, status=status_filter, mine=mine, page=page
    )
    return PageOut(items=[MerchantOut.of(m) for m in found.items], next_cursor=found.next_cursor)


@router.get("/{merchant_id}", response_model=MerchantOut)
async def get_merchant(
    merchant_id: UUID, principal: OptionalPrincipal, merchants: MerchantsDep
) -> MerchantOut:
    return MerchantOut.of(await merchants.get(principal=principal, merchant_id=merchant_id))


@router.patch(
    "/{merchant_id}",
    response_model=MerchantOut,
    summary="Owner or admin: change profile fields (the applicant, while pending)",
)
async def update_merchant(
    merchant_id: UUID, body: MerchantPatch, principal: CurrentPrincipal, merchants: MerchantsDep
) -> MerchantOut:
    merchant = await merchants.update(
        principal=principal, merchant_id=merchant_id, changes=body.changes()
    )
    return MerchantOut.of(merchant)


@router.post(
    "/{merchant_id}/verify",
    response_model=MerchantOut,
    summary="Admin: pending -> verified; the applicant becomes the owner",
)
async def verify(
    merchant_id: UUID, principal: CurrentPrincipal, merchants: MerchantsDep
) -> MerchantOut:
    return MerchantOut.of(await merchants.verify(principal=principal, merchant_id=merchant_id))


@router.post(
    "/{merchant_id}/suspend",
    response_model=MerchantOut,
    summary="Admin: verified -> suspended",
)
async def suspend(
    merchant_id: UUID, body: SuspendIn, principal: CurrentPrincipal, merchants: MerchantsDep
) -> MerchantOut:
    merchant = await merchants.suspend(
        principal=principal, merchant_id=merchant_id, reason=body.reason
    )
    return MerchantOut.of(merchant)


@router.post(
    "/{merchant_id}/reinstate",
    response_model=MerchantOut,
    summary="Admin: suspended -> verified",
)
async def reinstate(
    merchant_id: UUID, principal: CurrentPrincipal, merchants: MerchantsDep
) -> MerchantOut:
    return MerchantOut.of(await merchants.reinstate(principal=principal, merchant_id=merchant_id))
