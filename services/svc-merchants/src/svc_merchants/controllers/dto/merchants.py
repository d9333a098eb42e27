from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from svc_merchants.controllers.dto import examples as ex
from svc_merchants.services.data_model.merchants import Merchant, MerchantChanges, MerchantStatus


# The codes get generous bounds here: the service checks them and answers with a precise
# error code (invalid_country, invalid_currency, invalid_timezone) rather than invalid_input.
class MerchantIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.MERCHANT_IN)
    )

    name: str = Field(min_length=1, max_length=100)
    country: str = Field(min_length=1, max_length=8, description="ISO 3166-1 alpha-2, e.g. DE")
    currency: str = Field(min_length=1, max_length=8, description="ISO 4217, e.g. EUR")
    timezone: str = Field(min_length=1, max_length=64, description="IANA name, e.g. Europe/Berlin")
    category: str | None = Field(default=None, min_length=1, max_length=50)


class MerchantPatch(BaseModel):
    """Only the fields given change; category may be cleared with null."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.MERCHANT_PATCH)
    )

    name: str | None = Field(default=None, min_length=1, max_length=100)
    country: str | None = Field(default=None, min_length=1, max_length=8)
    currency: str | None = Field(default=None, min_length=1, max_length=8)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    category: str | None = Field(default=None, min_length=1, max_length=50)

    @model_validator(mode="after")
    def _required_fields_are_not_null(self) -> MerchantPatch:
        for name in ("name", "country", "currency", "timezone"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> MerchantChanges:
        return MerchantChanges(**self.model_dump(exclude_unset=True))


class SuspendIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.SUSPEND_IN)
    )

    reason: str = Field(min_length=1, max_length=500)


class MerchantOut(BaseModel):
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
    def of(cls, merchant: Merchant) -> MerchantOut:
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
