from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from core.pagination import PageOut
from core.web.patch_fields import omittable
from svc_coupons.controllers.dto import examples as ex
from svc_coupons.schemas.numbers import Long
from svc_coupons.schemas.text import STORABLE
from svc_coupons.services.data_model import campaigns as domain
from svc_coupons.services.data_model.campaigns import CampaignStatus, CampaignTerms, DiscountType
from svc_coupons.services.data_model.coupons import CampaignStats as CampaignStatsData

# The shapes of the fields; the business rules (discount range, currency, period, the
# years dates may be in, outlets) are the domain's, so REST and GraphQL refuse the same
# things the same way. Every string is STORABLE: no NUL, no lone surrogate.
Title = Annotated[str, Field(min_length=3, max_length=100), STORABLE]
Description = Annotated[str, Field(max_length=2000), STORABLE]
Amount = Annotated[Long, Field(ge=1, le=10**12)]
DiscountValue = Annotated[Long, Field(ge=-(10**12), le=10**12)]
Currency = Annotated[str, Field(min_length=3, max_length=3), STORABLE]
Quantity = Annotated[Long, Field(ge=1, le=10**9)]
PerCustomer = Annotated[Long, Field(ge=1, le=10_000)]
Days = Annotated[int, Field(ge=1, le=3650)]
OutletIds = Annotated[list[UUID], Field(max_length=500)]


def _utc(moment: datetime) -> datetime:
    """The moment in UTC. One at the very ends of datetime's range (year 1 at +14:00, say)
    has no UTC equivalent: it is kept as sent, still comparable, and the terms refuse it as
    they refuse every moment outside the years a campaign may use (`date_out_of_range`)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return moment


class CampaignInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.CAMPAIGN_IN)
    )

    merchant_id: UUID
    title: Title
    description: Description | None = None
    discount_type: DiscountType
    discount_value: DiscountValue = Field(description="Percent, or minor units of currency")
    currency: Currency | None = Field(default=None, description="ISO 4217, fixed_amount only")
    min_spend: Amount | None = None
    total_quantity: Quantity | None = Field(default=None, description="null: unlimited")
    per_customer_limit: PerCustomer = 1
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    validity_days: Days | None = None
    outlet_ids: OutletIds = Field(default_factory=list, description="empty: every outlet")
    transferable: bool = True
    tradable: bool = True

    def terms(self) -> CampaignTerms:
        return CampaignTerms(
            title=self.title,
            description=self.description,
            discount_type=self.discount_type,
            discount_value=self.discount_value,
            currency=self.currency.upper() if self.currency else None,
            min_spend=self.min_spend,
            total_quantity=self.total_quantity,
            per_customer_limit=self.per_customer_limit,
            starts_at=_utc(self.starts_at),
            ends_at=_utc(self.ends_at),
            validity_days=self.validity_days,
            outlet_ids=tuple(dict.fromkeys(self.outlet_ids)),
            transferable=self.transferable,
            tradable=self.tradable,
        )


def _patch_schema(schema: dict[str, Any]) -> None:
    """Every field of a patch may be left out, which keeps it as it is: no field has a
    default a caller could send instead."""
    for field in schema.get("properties", {}).values():
        field.pop("default", None)
    schema.update(ex.example(ex.CAMPAIGN_PATCH))


class CampaignPatch(BaseModel):
    """The fields to change in a draft. A field left out stays as it is; only description,
    currency, min_spend, total_quantity and validity_days take null (no value); the others,
    when sent, need a value: null is refused as invalid_input."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_patch_schema
    )

    title: Title = omittable()
    description: Description | None = None
    discount_type: DiscountType = omittable()
    discount_value: DiscountValue = omittable()
    currency: Currency | None = None
    min_spend: Amount | None = None
    total_quantity: Quantity | None = None
    per_customer_limit: PerCustomer = omittable()
    starts_at: AwareDatetime = omittable()
    ends_at: AwareDatetime = omittable()
    validity_days: Days | None = None
    outlet_ids: OutletIds = omittable()
    transferable: bool = omittable()
    tradable: bool = omittable()

    def changes(self) -> dict[str, Any]:
        """The fields the caller sent, as CampaignTerms holds them."""
        changes: dict[str, Any] = self.model_dump(exclude_unset=True)
        for moment in ("starts_at", "ends_at"):
            if moment in changes:
                changes[moment] = _utc(changes[moment])
        if changes.get("currency"):
            changes["currency"] = changes["currency"].upper()
        if "outlet_ids" in changes:
            changes["outlet_ids"] = tuple(dict.fromkeys(changes["outlet_ids"]))
        return changes


class Campaign(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.CAMPAIGN))

    id: UUID
    merchant_id: UUID
    status: CampaignStatus
    title: str
    description: str | None
    discount_type: DiscountType
    discount_value: Long = Field(description="Percent, or minor units of currency")
    currency: str | None
    min_spend: Long | None
    total_quantity: Long | None = Field(description="null: unlimited")
    per_customer_limit: Long
    starts_at: datetime
    ends_at: datetime
    validity_days: int | None
    outlet_ids: list[UUID] = Field(description="empty: every outlet")
    transferable: bool
    tradable: bool
    issued_count: Long = Field(description="Units taken from total_quantity, codes included")
    redeemed_count: Long
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, campaign: domain.Campaign) -> Campaign:
        terms = campaign.terms
        return cls(
            id=campaign.id,
            merchant_id=campaign.merchant_id,
            status=campaign.status,
            title=terms.title,
            description=terms.description,
            discount_type=terms.discount_type,
            discount_value=terms.discount_value,
            currency=terms.currency,
            min_spend=terms.min_spend,
            total_quantity=terms.total_quantity,
            per_customer_limit=terms.per_customer_limit,
            starts_at=terms.starts_at,
            ends_at=terms.ends_at,
            validity_days=terms.validity_days,
            outlet_ids=list(terms.outlet_ids),
            transferable=terms.transferable,
            tradable=terms.tradable,
            issued_count=campaign.issued_count,
            redeemed_count=campaign.redeemed_count,
            created_at=campaign.created_at,
            updated_at=campaign.updated_at,
        )


class CampaignSummary(BaseModel):
    """What a coupon shows of its campaign, whatever the campaign's status."""

    model_config = ConfigDict(json_schema_extra=ex.example(ex.CAMPAIGN_SUMMARY))

    id: UUID
    merchant_id: UUID
    title: str
    status: CampaignStatus
    discount_type: DiscountType
    discount_value: Long
    currency: str | None
    min_spend: Long | None
    ends_at: datetime
    outlet_ids: list[UUID]
    transferable: bool
    tradable: bool

    @classmethod
    def of(cls, campaign: domain.Campaign) -> CampaignSummary:
        terms = campaign.terms
        return cls(
            id=campaign.id,
            merchant_id=campaign.merchant_id,
            title=terms.title,
            status=campaign.status,
            discount_type=terms.discount_type,
            discount_value=terms.discount_value,
            currency=terms.currency,
            min_spend=terms.min_spend,
            ends_at=terms.ends_at,
            outlet_ids=list(terms.outlet_ids),
            transferable=terms.transferable,
            tradable=terms.tradable,
        )


class OutletRedemptions(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.OUTLET_REDEMPTIONS))

    outlet_id: UUID
    redeemed: Long


class DistributorStats(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.OWN_DISTRIBUTION))

    merchant_id: UUID = Field(description="The campaign's own merchant, or a partner's")
    issued: Long
    redeemed: Long


class CampaignStats(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.STATS))

    issued: Long = Field(description="Coupons given to customers (codes once claimed)")
    redeemed: Long
    active: Long
    expired: Long
    voided: Long
    reserved: Long
    unassigned: Long = Field(description="Generated codes nobody has claimed")
    redemption_rate: float = Field(description="redeemed / issued, 0 when none were issued")
    by_outlet: list[OutletRedemptions]
    by_distributor: list[DistributorStats] = Field(
        description="Per merchant that gave coupons out: the campaign's own and each partner"
    )

    @classmethod
    def of(cls, stats: CampaignStatsData) -> CampaignStats:
        return cls(
            issued=stats.issued,
            redeemed=stats.redeemed,
            active=stats.active,
            expired=stats.expired,
            voided=stats.voided,
            reserved=stats.reserved,
            unassigned=stats.unassigned,
            redemption_rate=stats.redemption_rate,
            by_outlet=[
                OutletRedemptions(outlet_id=outlet_id, redeemed=count)
                for outlet_id, count in stats.by_outlet
            ],
            by_distributor=[
                DistributorStats(merchant_id=d.merchant_id, issued=d.issued, redeemed=d.redeemed)
                for d in stats.by_distributor
            ],
        )


class CampaignPage(PageOut[Campaign]):
    """A page of campaigns, newest first."""
