from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from core.pagination import PageOut
from core.web.patch_fields import omittable
from svc_merchants.controllers.dto import examples as ex
from svc_merchants.services.data_model import merchants as domain
from svc_merchants.services.data_model.merchants import MerchantChanges, MerchantStatus


# The codes get generous bounds here: the service checks them and answers with a precise
# error code (invalid_country, invalid_currency, invalid_timezone) rather than invalid_input.
class ApplyForMerchantInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.MERCHANT_IN)
    )

    name: str = Field(min_length=1, max_length=100)
    country: str = Field(min_length=1, max_length=8, description="ISO 3166-1 alpha-2, e.g. DE")
    currency: str = Field(min_length=1, max_length=8, description="ISO 4217, e.g. EUR")
    timezone: str = Field(min_length=1, max_length=64, description="IANA name, e.g. Europe/Berlin")
    category: str | None = Field(default=None, min_length=1, max_length=50)


class UpdateMerchantInput(BaseModel):
    """Only the fields given change; category may be cleared with null, the others not."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.MERCHANT_PATCH)
    )

    name: str = omittable(min_length=1, max_length=100)
    country: str = omittable(min_length=1, max_length=8, description="ISO 3166-1 alpha-2")
    currency: str = omittable(min_length=1, max_length=8, description="ISO 4217")
    timezone: str = omittable(min_length=1, max_length=64, description="IANA name")
    category: str | None = Field(default=None, min_length=1, max_length=50)

    def changes(self) -> MerchantChanges:
        return MerchantChanges(**self.model_dump(exclude_unset=True))


class SuspendMerchantInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.SUSPEND_IN)
    )

    reason: str = Field(min_length=1, max_length=500)


class Merchant(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.MERCHANT))

    id: UUID
    name: str
    status: MerchantStatus
    owner_user_id: UUID
    country: str
    currency: str
    timezone: str
    category: str | None
    created_at: datetime
    updated_at: datetime
    verified_at: datetime | None
    suspended_at: datetime | None
    suspension_reason: str | None

    @classmethod
    def of(cls, merchant: domain.Merchant) -> Merchant:
        return cls(
            id=merchant.id,
            name=merchant.name,
            status=merchant.status,
            owner_user_id=merchant.owner_user_id,
            country=merchant.country,
            currency=merchant.currency,
            timezone=merchant.timezone,
            category=merchant.category,
            created_at=merchant.created_at,
            updated_at=merchant.updated_at,
            verified_at=merchant.verified_at,
            suspended_at=merchant.suspended_at,
            suspension_reason=merchant.suspension_reason,
        )


class MerchantPage(PageOut[Merchant]):
    """A page of merchants."""
