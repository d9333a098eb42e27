"""Partner allocations: shares of a campaign handed to partner merchants to issue."""

from __future__ import annotations

from uuid import UUID

from fastapi import status

from core.errors import Forbidden
from core.web.openapi import problems
from core.web.pagination import PageDep
from core.web.routes import service_router
from svc_coupons.controllers.dependencies import AllocationsDep
from svc_coupons.controllers.dto.coupons import Coupon, IssueIn
from svc_coupons.controllers.dto.exchange import Allocation, AllocationIn, AllocationPage
from svc_coupons.controllers.rest.errors import MERCHANT_CHECK
from svc_coupons.controllers.scopes import ReadPrincipal, WritePrincipal
from svc_coupons.services.errors import (
    AllocationExhausted,
    AllocationNotFound,
    CampaignNotActive,
    CampaignNotFound,
    InvalidPartner,
    LimitReached,
    SoldOut,
)

router = service_router(tags=["allocations"])


@router.post(
    "/api/v1/campaigns/{campaign_id}/allocations",
    status_code=status.HTTP_201_CREATED,
    response_model=Allocation,
    summary="Owner: hand a share of the campaign's quantity to a verified partner merchant",
    operation_id="createAllocation",
    responses=problems(
        CampaignNotFound, Forbidden, InvalidPartner, CampaignNotActive, SoldOut, *MERCHANT_CHECK
    ),
)
async def allocate(
    campaign_id: UUID, body: AllocationIn, principal: WritePrincipal, allocations: AllocationsDep
) -> Allocation:
    allocation = await allocations.create(
        principal=principal,
        campaign_id=campaign_id,
        partner_merchant_id=body.partner_merchant_id,
        quantity=body.quantity,
    )
    return Allocation.of(allocation)


@router.get(
    "/api/v1/campaigns/{campaign_id}/allocations",
    response_model=AllocationPage,
    summary="Owner, staff: the campaign's shares, newest first",
    operation_id="listCampaignAllocations",
    responses=problems(CampaignNotFound, Forbidden),
)
async def campaign_allocations(
    campaign_id: UUID, principal: ReadPrincipal, allocations: AllocationsDep, page: PageDep
) -> AllocationPage:
    found = await allocations.of_campaign(principal=principal, campaign_id=campaign_id, page=page)
    return AllocationPage(
        items=[Allocation.of(a) for a in found.items], next_cursor=found.next_cursor
    )


@router.get(
    "/api/v1/allocations",
    response_model=AllocationPage,
    summary="A partner merchant's people: the shares it holds, ?merchant_id= (required)",
    operation_id="listAllocations",
    responses=problems(Forbidden),
)
async def partner_allocations(
    merchant_id: UUID, principal: ReadPrincipal, allocations: AllocationsDep, page: PageDep
) -> AllocationPage:
    found = await allocations.of_partner(
        principal=principal, partner_merchant_id=merchant_id, page=page
    )
    return AllocationPage(
        items=[Allocation.of(a) for a in found.items], next_cursor=found.next_cursor
    )


@router.get(
    "/api/v1/allocations/{allocation_id}",
    response_model=Allocation,
    summary="Both merchants' people: the share and what was issued from it",
    operation_id="getAllocation",
    responses=problems(AllocationNotFound),
)
async def get_allocation(
    allocation_id: UUID, principal: ReadPrincipal, allocations: AllocationsDep
) -> Allocation:
    return Allocation.of(await allocations.get(principal=principal, allocation_id=allocation_id))


@router.post(
    "/api/v1/allocations/{allocation_id}/issue",
    status_code=status.HTTP_201_CREATED,
    response_model=Coupon,
    summary="Partner merchant's owner, staff, or partner client with coupons:write",
    operation_id="issueFromAllocation",
    responses=problems(
        AllocationNotFound,
        Forbidden,
        CampaignNotFound,
        CampaignNotActive,
        AllocationExhausted,
        LimitReached,
        *MERCHANT_CHECK,
    ),
)
async def issue_from_allocation(
    allocation_id: UUID, body: IssueIn, principal: WritePrincipal, allocations: AllocationsDep
) -> Coupon:
    details = await allocations.issue(
        principal=principal, allocation_id=allocation_id, user_id=body.user_id
    )
    return Coupon.of(details)
