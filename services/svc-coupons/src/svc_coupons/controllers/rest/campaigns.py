"""Campaigns: create, read, list, change while draft, the lifecycle, stats."""

from __future__ import annotations

from uuid import UUID

from fastapi import status

from core.auth.dependencies import OptionalPrincipal
from core.errors import Conflict, Forbidden
from core.web.openapi import problems
from core.web.pagination import PageDep
from core.web.routes import service_router
from svc_coupons.controllers.dependencies import CampaignsDep
from svc_coupons.controllers.dto.campaigns import (
    Campaign,
    CampaignInput,
    CampaignPage,
    CampaignPatch,
    CampaignStats,
)
from svc_coupons.controllers.rest.errors import MERCHANT_CHECK, TERMS_VIOLATIONS
from svc_coupons.controllers.scopes import ReadPrincipal, WritePrincipal
from svc_coupons.services.data_model.campaigns import CampaignAction, CampaignStatus
from svc_coupons.services.errors import (
    CampaignNotDraft,
    CampaignNotFound,
    InvalidStatusFilter,
    InvalidTransition,
    QuantityBelowIssued,
    UnknownOutlet,
)

router = service_router(prefix="/api/v1/campaigns", tags=["campaigns"])

LIFECYCLE_ERRORS = (CampaignNotFound, Forbidden, InvalidTransition)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=Campaign,
    summary="Owner: a new campaign, in draft",
    operation_id="createCampaign",
    responses=problems(Forbidden, *TERMS_VIOLATIONS, UnknownOutlet, *MERCHANT_CHECK),
)
async def create_campaign(
    body: CampaignInput, principal: WritePrincipal, campaigns: CampaignsDep
) -> Campaign:
    campaign = await campaigns.create(
        principal=principal, merchant_id=body.merchant_id, terms=body.terms()
    )
    return Campaign.of(campaign)


@router.get(
    "",
    response_model=CampaignPage,
    summary="Active campaigns; a merchant's members also list its other statuses",
    operation_id="listCampaigns",
    responses=problems(Forbidden, InvalidStatusFilter),
)
async def list_campaigns(
    principal: OptionalPrincipal,
    campaigns: CampaignsDep,
    page: PageDep,
    merchant_id: UUID | None = None,
    status: CampaignStatus | None = None,
) -> CampaignPage:
    found = await campaigns.list(
        principal=principal, merchant_id=merchant_id, status=status, page=page
    )
    return CampaignPage(items=[Campaign.of(c) for c in found.items], next_cursor=found.next_cursor)


@router.get(
    "/{campaign_id}",
    response_model=Campaign,
    summary="An active campaign; the merchant's members see any status",
    operation_id="getCampaign",
    responses=problems(CampaignNotFound),
)
async def get_campaign(
    campaign_id: UUID, principal: OptionalPrincipal, campaigns: CampaignsDep
) -> Campaign:
    return Campaign.of(await campaigns.get(principal=principal, campaign_id=campaign_id))


@router.patch(
    "/{campaign_id}",
    response_model=Campaign,
    summary="Owner: change a draft",
    operation_id="updateCampaign",
    responses=problems(
        CampaignNotFound,
        Forbidden,
        CampaignNotDraft,
        *TERMS_VIOLATIONS,
        QuantityBelowIssued,
        UnknownOutlet,
        Conflict,
        *MERCHANT_CHECK,
    ),
)
async def update_campaign(
    campaign_id: UUID, body: CampaignPatch, principal: WritePrincipal, campaigns: CampaignsDep
) -> Campaign:
    campaign = await campaigns.update(
        principal=principal, campaign_id=campaign_id, changes=body.changes()
    )
    return Campaign.of(campaign)


async def _transition(
    campaigns: CampaignsDep, principal: WritePrincipal, campaign_id: UUID, action: CampaignAction
) -> Campaign:
    campaign = await campaigns.transition(
        principal=principal, campaign_id=campaign_id, action=action
    )
    return Campaign.of(campaign)


@router.post(
    "/{campaign_id}/publish",
    response_model=Campaign,
    summary="Owner: draft -> active",
    operation_id="publishCampaign",
    responses=problems(*LIFECYCLE_ERRORS, *MERCHANT_CHECK),
)
async def publish_campaign(
    campaign_id: UUID, principal: WritePrincipal, campaigns: CampaignsDep
) -> Campaign:
    return await _transition(campaigns, principal, campaign_id, CampaignAction.PUBLISH)


@router.post(
    "/{campaign_id}/pause",
    response_model=Campaign,
    summary="Owner: active -> paused",
    operation_id="pauseCampaign",
    responses=problems(*LIFECYCLE_ERRORS),
)
async def pause_campaign(
    campaign_id: UUID, principal: WritePrincipal, campaigns: CampaignsDep
) -> Campaign:
    return await _transition(campaigns, principal, campaign_id, CampaignAction.PAUSE)


@router.post(
    "/{campaign_id}/resume",
    response_model=Campaign,
    summary="Owner: paused -> active",
    operation_id="resumeCampaign",
    responses=problems(*LIFECYCLE_ERRORS, *MERCHANT_CHECK),
)
async def resume_campaign(
    campaign_id: UUID, principal: WritePrincipal, campaigns: CampaignsDep
) -> Campaign:
    return await _transition(campaigns, principal, campaign_id, CampaignAction.RESUME)


@router.post(
    "/{campaign_id}/end",
    response_model=Campaign,
    summary="Owner: active or paused -> ended",
    operation_id="endCampaign",
    responses=problems(*LIFECYCLE_ERRORS),
)
async def end_campaign(
    campaign_id: UUID, principal: WritePrincipal, campaigns: CampaignsDep
) -> Campaign:
    return await _transition(campaigns, principal, campaign_id, CampaignAction.END)


@router.get(
    "/{campaign_id}/stats",
    response_model=CampaignStats,
    summary="Owner, staff: the numbers",
    operation_id="getCampaignStats",
    responses=problems(CampaignNotFound, Forbidden),
)
async def campaign_stats(
    campaign_id: UUID, principal: ReadPrincipal, campaigns: CampaignsDep
) -> CampaignStats:
    return CampaignStats.of(await campaigns.stats(principal=principal, campaign_id=campaign_id))
