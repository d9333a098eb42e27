"""Gift transfers: an owner gives a coupon; another customer takes it with the claim token."""

from __future__ import annotations

from uuid import UUID

from fastapi import Response, status

from core.errors import Forbidden, TooManyRequests
from core.web.openapi import problems
from core.web.pagination import PageDep
from core.web.routes import SecretAnswerKeyDep, service_router
from svc_coupons.controllers.dependencies import TransfersDep
from svc_coupons.controllers.dto.coupons import Coupon
from svc_coupons.controllers.dto.exchange import (
    AcceptTransferIn,
    NewTransfer,
    Transfer,
    TransferPage,
    TransferRole,
)
from svc_coupons.controllers.rest.errors import DEAD_COUPON, NOT_ACTIVE_COUPON
from svc_coupons.controllers.scopes import ReadPrincipal, WritePrincipal
from svc_coupons.services.errors import (
    CouponExpired,
    CouponNotFound,
    CouponVoid,
    InvalidClaimToken,
    InvalidStatusFilter,
    LimitReached,
    NotTransferable,
    OwnTransfer,
    TransferClosed,
    TransferExpired,
    TransferNotFound,
)

router = service_router(tags=["transfers"])


@router.post(
    "/api/v1/coupons/{code}/transfers",
    status_code=status.HTTP_201_CREATED,
    response_model=NewTransfer,
    summary="Coupon owner: give the coupon away; it is held until accepted or cancelled",
    operation_id="giveCoupon",
    responses=problems(
        TooManyRequests,
        CouponNotFound,
        Forbidden,
        *NOT_ACTIVE_COUPON,
        NotTransferable,
        *DEAD_COUPON,
        TransferClosed,
        TransferExpired,
    ),
    description=(
        "The claim token is shown in this answer only: it is derived from the transfer, and "
        "no table keeps it. A retry with the same Idempotency-Key finds the same transfer "
        "and answers it again, the same token included (Idempotent-Replayed: true). A new "
        "token only on request: POST /api/v1/transfers/{transfer_id}/claim-token."
    ),
)
async def give(
    code: str,
    principal: WritePrincipal,
    transfers: TransfersDep,
    idempotency_key: SecretAnswerKeyDep,
    response: Response,
) -> NewTransfer:
    new = await transfers.create(principal=principal, code=code, idempotency_key=idempotency_key)
    response.headers["Cache-Control"] = "no-store"
    if new.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return NewTransfer.created(new)


@router.post(
    "/api/v1/transfers/{transfer_id}/claim-token",
    response_model=NewTransfer,
    summary="The sender: a new claim token for a pending gift; the previous one stops working",
    operation_id="rotateClaimToken",
    responses=problems(TransferNotFound, Forbidden, TransferExpired, TransferClosed),
    description=(
        "For a gift link shared with the wrong person. The answer is the gift with its new "
        "token (shown here only); an accept with the old token, even one racing this "
        "request, is refused 403 `invalid_claim_token`. Recorded in the coupon's history "
        "as `transfer.token_rotated`. The answer is not kept for Idempotency-Key replay: a "
        "retry with the same key rotates again and answers the newer token, the only one that "
        "then works."
    ),
)
async def rotate_claim_token(
    transfer_id: UUID,
    principal: WritePrincipal,
    transfers: TransfersDep,
    response: Response,
    # The answer holds the new token, so it is not kept for replay: a retry rotates again.
    _secret_answer: SecretAnswerKeyDep,
) -> NewTransfer:
    rotated = await transfers.rotate_token(principal=principal, transfer_id=transfer_id)
    response.headers["Cache-Control"] = "no-store"
    return NewTransfer.created(rotated)


@router.post(
    "/api/v1/transfers/{transfer_id}/accept",
    response_model=Coupon,
    summary="Any other customer, with the claim token: the coupon becomes theirs, new code",
    operation_id="acceptTransfer",
    responses=problems(
        TooManyRequests,
        TransferNotFound,
        Forbidden,
        InvalidClaimToken,
        OwnTransfer,
        TransferExpired,
        TransferClosed,
        CouponExpired,
        CouponVoid,
        *DEAD_COUPON,
        LimitReached,
    ),
)
async def accept(
    transfer_id: UUID, body: AcceptTransferIn, principal: WritePrincipal, transfers: TransfersDep
) -> Coupon:
    details = await transfers.accept(
        principal=principal, transfer_id=transfer_id, claim_token=body.claim_token
    )
    return Coupon.of(details)


@router.post(
    "/api/v1/transfers/{transfer_id}/cancel",
    response_model=Coupon,
    summary="The sender: take the coupon back, active again",
    operation_id="cancelTransfer",
    responses=problems(TransferNotFound, TransferClosed),
)
async def cancel(transfer_id: UUID, principal: WritePrincipal, transfers: TransfersDep) -> Coupon:
    return Coupon.of(await transfers.cancel(principal=principal, transfer_id=transfer_id))


@router.get(
    "/api/v1/transfers",
    response_model=TransferPage,
    summary="Own transfers, newest first: ?role=sent or received (default both)",
    operation_id="listTransfers",
    responses=problems(Forbidden, InvalidStatusFilter),
)
async def list_transfers(
    principal: ReadPrincipal,
    transfers: TransfersDep,
    page: PageDep,
    role: TransferRole | None = None,
) -> TransferPage:
    found = await transfers.list(principal=principal, role=role, page=page)
    return TransferPage(items=[Transfer.of(t) for t in found.items], next_cursor=found.next_cursor)


@router.get(
    "/api/v1/transfers/{transfer_id}",
    response_model=Transfer,
    summary="Its sender and recipient: the transfer, its coupon without the code",
    operation_id="getTransfer",
    responses=problems(TransferNotFound),
)
async def get_transfer(
    transfer_id: UUID, principal: ReadPrincipal, transfers: TransfersDep
) -> Transfer:
    return Transfer.of(await transfers.get(principal=principal, transfer_id=transfer_id))
