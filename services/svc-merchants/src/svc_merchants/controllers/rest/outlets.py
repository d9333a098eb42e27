"""A merchant's outlets: its owner manages them, anyone lists a verified merchant's."""

from __future__ import annotations

from uuid import UUID

from fastapi import Response, status

from core.auth.dependencies import OptionalPrincipal
from core.errors import Forbidden
from core.web.openapi import problems
from core.web.pagination import PageDep
from core.web.routes import service_router
from svc_merchants.controllers.dependencies import OutletsDep, WritePrincipal
from svc_merchants.controllers.dto.outlets import (
    CreateOutletInput,
    Outlet,
    OutletPage,
    UpdateOutletInput,
)
from svc_merchants.services.errors import (
    InvalidCoordinates,
    MerchantNotFound,
    MerchantNotVerified,
    OutletLimitReached,
    OutletNotFound,
)

router = service_router(prefix="/api/v1/merchants/{merchant_id}/outlets", tags=["outlets"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Outlet,
    summary="Owner: add an outlet to a verified merchant",
    operation_id="createOutlet",
    responses=problems(
        MerchantNotFound, Forbidden, MerchantNotVerified, OutletLimitReached, InvalidCoordinates
    ),
)
async def create_outlet(
    merchant_id: UUID, body: CreateOutletInput, principal: WritePrincipal, outlets: OutletsDep
) -> Outlet:
    outlet = await outlets.create(
        principal=principal,
        merchant_id=merchant_id,
        name=body.name,
        address=body.address,
        latitude=body.latitude,
        longitude=body.longitude,
    )
    return Outlet.of(outlet)


@router.get(
    "",
    response_model=OutletPage,
    summary="A visible merchant's outlets",
    operation_id="listOutlets",
    responses=problems(MerchantNotFound),
)
async def list_outlets(
    merchant_id: UUID, principal: OptionalPrincipal, outlets: OutletsDep, page: PageDep
) -> OutletPage:
    found = await outlets.list_outlets(principal=principal, merchant_id=merchant_id, page=page)
    return OutletPage(items=[Outlet.of(o) for o in found.items], next_cursor=found.next_cursor)


@router.patch(
    "/{outlet_id}",
    response_model=Outlet,
    summary="Owner: change an outlet",
    operation_id="updateOutlet",
    responses=problems(
        MerchantNotFound, OutletNotFound, Forbidden, MerchantNotVerified, InvalidCoordinates
    ),
)
async def update_outlet(
    merchant_id: UUID,
    outlet_id: UUID,
    body: UpdateOutletInput,
    principal: WritePrincipal,
    outlets: OutletsDep,
) -> Outlet:
    outlet = await outlets.update(
        principal=principal, merchant_id=merchant_id, outlet_id=outlet_id, changes=body.changes()
    )
    return Outlet.of(outlet)


@router.delete(
    "/{outlet_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Owner: remove an outlet",
    operation_id="deleteOutlet",
    responses=problems(MerchantNotFound, OutletNotFound, Forbidden, MerchantNotVerified),
)
async def delete_outlet(
    merchant_id: UUID, outlet_id: UUID, principal: WritePrincipal, outlets: OutletsDep
) -> Response:
    await outlets.delete(principal=principal, merchant_id=merchant_id, outlet_id=outlet_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
