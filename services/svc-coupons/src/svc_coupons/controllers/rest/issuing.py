"""Giving coupons out: a customer's claim, issue by staff, codes for offline use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from fastapi import Request, Response, status
from fastapi.responses import StreamingResponse

from core.errors import Forbidden, TooManyRequests
from core.idempotency import AnswerForm, answer_in_statement
from core.web.openapi import problems
from core.web.pagination import PageDep
from core.web.routes import get_session, service_router
from svc_coupons.controllers.dependencies import IssuingDep
from svc_coupons.controllers.dto.coupons import (
    ClaimCodeIn,
    Code,
    CodePage,
    CodesIn,
    Coupon,
    GeneratedCodes,
    IssueIn,
)
from svc_coupons.controllers.rest.errors import MERCHANT_CHECK
from svc_coupons.controllers.rest.negotiation import NotAcceptable, negotiate
from svc_coupons.controllers.scopes import ReadPrincipal, WritePrincipal
from svc_coupons.services.data_model.coupons import CouponDetails
from svc_coupons.services.errors import (
    CampaignBusy,
    CampaignNotActive,
    CampaignNotFound,
    CodeAlreadyClaimed,
    CodeNotFound,
    CouponVoid,
    LimitReached,
    SoldOut,
)

router = service_router()

JSON = "application/json"
CSV = "text/csv"
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {CSV: {"schema": {"type": "string"}}},
        "description": "JSON page, or every code as CSV when Accept prefers text/csv",
    },
}
TAKING_ERRORS = (CampaignNotFound, Forbidden, CampaignNotActive, SoldOut, LimitReached)


def _render_issued(details: object) -> bytes:
    assert isinstance(details, CouponDetails)
    return Coupon.of(details).model_dump_json().encode()


ISSUED_ANSWER = AnswerForm(status=status.HTTP_201_CREATED, media_type=JSON, render=_render_issued)


def _issued(details: CouponDetails) -> Response:
    return Response(_render_issued(details), status.HTTP_201_CREATED, media_type=JSON)


@router.post(
    "/api/v1/campaigns/{campaign_id}/claim",
    status_code=status.HTTP_201_CREATED,
    response_model=Coupon,
    summary="Customer: take a coupon of an active campaign",
    tags=["coupons"],
    operation_id="claimCoupon",
    responses=problems(TooManyRequests, CampaignBusy, *TAKING_ERRORS, *MERCHANT_CHECK),
)
async def claim(
    campaign_id: UUID, request: Request, principal: WritePrincipal, issuing: IssuingDep
) -> Response:
    # The answer is built before the claim's one statement, which stores it for the
    # Idempotency-Key (core.idempotency.answer_in_statement): these bytes, and no others.
    answer_in_statement(get_session(request), ISSUED_ANSWER)
    details = await issuing.claim(principal=principal, campaign_id=campaign_id)
    return _issued(details)


@router.post(
    "/api/v1/campaigns/{campaign_id}/issue",
    status_code=status.HTTP_201_CREATED,
    response_model=Coupon,
    summary="Owner, staff: give a customer a coupon",
    tags=["coupons"],
    operation_id="issueCoupon",
    responses=problems(*TAKING_ERRORS, *MERCHANT_CHECK),
)
async def issue(
    campaign_id: UUID,
    body: IssueIn,
    request: Request,
    principal: WritePrincipal,
    issuing: IssuingDep,
) -> Response:
    answer_in_statement(get_session(request), ISSUED_ANSWER)
    details = await issuing.issue(
        principal=principal, campaign_id=campaign_id, user_id=body.user_id
    )
    return _issued(details)


@router.post(
    "/api/v1/campaigns/{campaign_id}/codes",
    status_code=status.HTTP_201_CREATED,
    response_model=GeneratedCodes,
    summary="Owner: unassigned codes for offline distribution, all or none",
    tags=["codes"],
    operation_id="generateCodes",
    responses=problems(CampaignNotFound, Forbidden, CampaignNotActive, SoldOut),
)
async def generate_codes(
    campaign_id: UUID, body: CodesIn, principal: WritePrincipal, issuing: IssuingDep
) -> GeneratedCodes:
    generated = await issuing.generate_codes(
        principal=principal, campaign_id=campaign_id, count=body.count
    )
    return GeneratedCodes(generated=generated)


async def _csv(batches: AsyncIterator[list[str]]) -> AsyncIterator[bytes]:
    yield b"code\r\n"
    async for codes in batches:
        yield ("\r\n".join(codes) + "\r\n").encode("ascii")


@router.get(
    "/api/v1/campaigns/{campaign_id}/codes",
    response_model=CodePage,
    responses={**CSV_RESPONSE, **problems(CampaignNotFound, Forbidden, NotAcceptable)},
    summary="Owner: the unassigned codes",
    tags=["codes"],
    operation_id="listCodes",
)
async def list_codes(
    campaign_id: UUID,
    request: Request,
    principal: ReadPrincipal,
    issuing: IssuingDep,
    page: PageDep,
) -> CodePage | StreamingResponse:
    # Real negotiation: q-values count ("text/csv;q=0" is a refusal, not a request).
    representation = negotiate(request.headers.get("accept"), (JSON, CSV))
    if representation is None:
        raise NotAcceptable("This list is served as application/json or text/csv")
    if representation == CSV:
        batches = await issuing.export_codes(principal=principal, campaign_id=campaign_id)
        return StreamingResponse(
            _csv(batches),
            media_type=CSV,
            headers={"Content-Disposition": f'attachment; filename="codes-{campaign_id}.csv"'},
        )
    codes = await issuing.list_codes(principal=principal, campaign_id=campaign_id, page=page)
    return CodePage(items=[Code.of(c) for c in codes.items], next_cursor=codes.next_cursor)


@router.post(
    "/api/v1/coupons/claim",
    status_code=status.HTTP_201_CREATED,
    response_model=Coupon,
    summary="Customer: claim an unassigned code",
    tags=["codes"],
    operation_id="claimCode",
    responses=problems(
        TooManyRequests,
        CodeNotFound,
        Forbidden,
        CodeAlreadyClaimed,
        CouponVoid,
        CampaignNotActive,
        LimitReached,
        *MERCHANT_CHECK,
    ),
)
async def claim_code(body: ClaimCodeIn, principal: WritePrincipal, issuing: IssuingDep) -> Coupon:
    return Coupon.of(await issuing.claim_code(principal=principal, code=body.code))
