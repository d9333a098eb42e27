"""svc-coupons's GraphQL object and input types, derived from the REST DTOs.

Each type below is its DTO seen by GraphQL (Strawberry's pydantic integration): the same
name, the same fields, the same enums and the same nullability, so the two contracts
cannot drift. An answer is built once, as its DTO (`Coupon.of(...)`), then handed over
with `from_pydantic`. Enums are the domain's, with REST's spellings as their GraphQL
values (`active`, not `ACTIVE`).
"""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

import strawberry
from strawberry.experimental.pydantic import input as pydantic_input
from strawberry.experimental.pydantic import type as pydantic_type
from strawberry.scalars import JSON

from svc_coupons.controllers.dto import campaigns as campaign_dto
from svc_coupons.controllers.dto import coupons as coupon_dto
from svc_coupons.controllers.dto import exchange as exchange_dto
from svc_coupons.schemas.numbers import Long
from svc_coupons.services.data_model.campaigns import CampaignStatus, DiscountType
from svc_coupons.services.data_model.coupons import CouponStatus, WalletFilter
from svc_coupons.services.data_model.exchange import ListingStatus, TransferStatus
from svc_coupons.services.data_model.redemption import Refusal

for _enum in (
    CampaignStatus,
    DiscountType,
    CouponStatus,
    TransferStatus,
    ListingStatus,
    Refusal,
    WalletFilter,
    exchange_dto.TransferRole,
):
    strawberry.enum(_enum, graphql_name_from="value")

T = TypeVar("T")


@strawberry.type(description="A page of a list: pass nextCursor back as cursor for the next")
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


# Answers. Nested DTOs come before the ones that hold them.


@pydantic_type(model=campaign_dto.Campaign, all_fields=True)
class Campaign:
    pass


@pydantic_type(
    model=campaign_dto.CampaignSummary,
    all_fields=True,
    description=campaign_dto.CampaignSummary.__doc__,
)
class CampaignSummary:
    pass


@pydantic_type(model=campaign_dto.OutletRedemptions, all_fields=True)
class OutletRedemptions:
    pass


@pydantic_type(model=campaign_dto.DistributorStats, all_fields=True)
class DistributorStats:
    pass


@pydantic_type(model=campaign_dto.CampaignStats, all_fields=True)
class CampaignStats:
    pass


@pydantic_type(model=coupon_dto.Coupon, all_fields=True)
class Coupon:
    pass


@pydantic_type(model=coupon_dto.Redemption, all_fields=True)
class Redemption:
    pass


@pydantic_type(model=coupon_dto.Validation, all_fields=True)
class Validation:
    pass


@pydantic_type(model=coupon_dto.HistoryEvent, all_fields=True)
class HistoryEvent:
    data: JSON  # what the event recorded, as the audit trail keeps it


@pydantic_type(model=coupon_dto.GeneratedCodes, all_fields=True)
class GeneratedCodes:
    pass


@pydantic_type(model=coupon_dto.Code, all_fields=True, description=coupon_dto.Code.__doc__)
class Code:
    pass


@pydantic_type(
    model=exchange_dto.CouponSummary,
    all_fields=True,
    description=exchange_dto.CouponSummary.__doc__,
)
class CouponSummary:
    pass


@pydantic_type(model=exchange_dto.Transfer, all_fields=True)
class Transfer:
    pass


@pydantic_type(
    model=exchange_dto.NewTransfer, all_fields=True, description=exchange_dto.NewTransfer.__doc__
)
class NewTransfer:
    pass


@pydantic_type(model=exchange_dto.Wants, all_fields=True)
class Wants:
    pass


@pydantic_type(model=exchange_dto.Listing, all_fields=True)
class Listing:
    pass


@pydantic_type(model=exchange_dto.Swap, all_fields=True, description=exchange_dto.Swap.__doc__)
class Swap:
    pass


@pydantic_type(model=exchange_dto.Allocation, all_fields=True)
class Allocation:
    pass


# Inputs: `to_pydantic()` validates them as REST validates its bodies.


# Strawberry has no mapping for pydantic's AwareDatetime: to GraphQL it is a DateTime, and
# `to_pydantic()` refuses one without an offset, as REST does.


@pydantic_input(model=campaign_dto.CampaignInput, all_fields=True)
class CampaignInput:
    starts_at: datetime
    ends_at: datetime


# The PATCH input is written out, not derived: GraphQL makes an input field optional only by
# making it nullable, and a field left out must be told from one sent as null, which a
# derived input cannot (it gives every left-out field the model's default). Every field is
# nullable and UNSET when left out; what was given (core.web.graphql.given_fields) goes
# through the REST model, which refuses a null where REST does (invalid_input).
# tests/contracts/test_object_parity.py holds it to the model field by field.
@strawberry.input(description=inspect.cleandoc(campaign_dto.CampaignPatch.__doc__ or ""))
class CampaignPatch:
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    discount_type: DiscountType | None = strawberry.UNSET
    discount_value: Long | None = strawberry.UNSET
    currency: str | None = strawberry.UNSET
    min_spend: Long | None = strawberry.UNSET
    total_quantity: Long | None = strawberry.UNSET
    per_customer_limit: Long | None = strawberry.UNSET
    starts_at: datetime | None = strawberry.UNSET
    ends_at: datetime | None = strawberry.UNSET
    validity_days: int | None = strawberry.UNSET
    outlet_ids: list[UUID] | None = strawberry.UNSET
    transferable: bool | None = strawberry.UNSET
    tradable: bool | None = strawberry.UNSET


@pydantic_input(model=exchange_dto.WantsInput, all_fields=True)
class WantsInput:
    pass
