from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from core.pagination import PageOut
from svc_coupons.controllers.dto import examples as ex
from svc_coupons.controllers.dto.campaigns import CampaignSummary
from svc_coupons.schemas.numbers import Long
from svc_coupons.schemas.text import STORABLE
from svc_coupons.services import redemption as redemption_service
from svc_coupons.services.data_model.coupons import (
    AuditEntry,
    CodeRecord,
    CouponDetails,
    CouponStatus,
    RedemptionReceipt,
)
from svc_coupons.services.data_model.redemption import Refusal
from svc_coupons.services.issuing import MAX_CODES

OrderAmount = Field(default=None, ge=0, le=10**12, description="Minor units")


class Coupon(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.COUPON))

    id: UUID
    code: str
    campaign_id: UUID
    merchant_id: UUID
    owner_user_id: UUID | None
    status: CouponStatus
    issued_at: datetime | None
    expires_at: datetime | None
    redeemed_at: datetime | None
    campaign: CampaignSummary

    @classmethod
    def of(cls, details: CouponDetails) -> Coupon:
        coupon = details.coupon
        return cls(
            id=coupon.id,
            code=coupon.code,
            campaign_id=coupon.campaign_id,
            merchant_id=coupon.merchant_id,
            owner_user_id=coupon.owner_user_id,
            status=details.status,
            issued_at=coupon.issued_at,
            expires_at=coupon.expires_at,
            redeemed_at=coupon.redeemed_at,
            campaign=CampaignSummary.of(details.campaign),
        )


class IssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.ISSUE_IN))

    user_id: UUID


class CodesIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.CODES_IN))

    count: int = Field(ge=1, le=MAX_CODES)


class GeneratedCodes(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.CODES_OUT))

    generated: Long


class Code(BaseModel):
    """An unassigned code of a campaign, for offline distribution."""

    model_config = ConfigDict(json_schema_extra=ex.example(ex.CODE_OUT))

    code: str
    created_at: datetime

    @classmethod
    def of(cls, record: CodeRecord) -> Code:
        return cls(code=record.code, created_at=record.created_at)


class ClaimCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.CLAIM_CODE_IN))

    code: Annotated[
        str,
        Field(min_length=1, max_length=64, description="Any case; spaces, dashes ignored"),
        STORABLE,
    ]


class ValidateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.VALIDATE_IN))

    outlet_id: UUID
    order_amount: Long | None = OrderAmount


class Validation(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.VALIDATION))

    valid: bool
    reason: Refusal | None = Field(description="The error code redeem would answer, if any")
    discount_amount: Long | None = Field(
        description="Minor units; null for a percentage without order_amount"
    )

    @classmethod
    def of(cls, validation: redemption_service.Validation) -> Validation:
        return cls(
            valid=validation.valid,
            reason=validation.reason,
            discount_amount=validation.discount_amount,
        )


class RedeemIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.REDEEM_IN)
    )

    outlet_id: UUID
    order_reference: Annotated[str, Field(max_length=100), STORABLE] | None = None
    order_amount: Long | None = OrderAmount


class Redemption(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.REDEMPTION))

    redemption_id: UUID
    coupon: Coupon
    discount_amount: Long | None = Field(
        description="Minor units; null for a percentage without order_amount"
    )
    redeemed_at: datetime
    outlet_id: UUID
    order_reference: str | None
    order_amount: Long | None

    @classmethod
    def of(cls, receipt: RedemptionReceipt) -> Redemption:
        redemption = receipt.redemption
        return cls(
            redemption_id=redemption.id,
            coupon=Coupon.of(receipt.coupon),
            discount_amount=redemption.discount_amount,
            redeemed_at=redemption.redeemed_at,
            outlet_id=redemption.outlet_id,
            order_reference=redemption.order_reference,
            order_amount=redemption.order_amount,
        )


class ReasonIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.REASON_IN)
    )

    reason: Annotated[str, Field(min_length=1, max_length=500), STORABLE]


class HistoryEvent(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.HISTORY_EVENT))

    event_id: str
    # Event types are an open set: a new kind of event is not a break for a reader.
    type: str = Field(description="What happened: coupon.claimed, transfer.created, ...")
    actor: str | None = Field(description="The user or client who did it; null: the platform")
    at: datetime
    data: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> HistoryEvent:
        return cls(
            event_id=entry.event_id,
            type=entry.type,
            actor=entry.actor,
            at=datetime.fromisoformat(entry.at),
            data=dict(entry.data),
        )


class CouponPage(PageOut[Coupon]):
    """A page of a wallet, newest first."""


class CodePage(PageOut[Code]):
    """A page of a campaign's unassigned codes, in code order."""


class HistoryEventPage(PageOut[HistoryEvent]):
    """A page of a coupon's history, oldest first."""
