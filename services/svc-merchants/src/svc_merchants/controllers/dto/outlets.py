from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from core.pagination import PageOut
from core.web.patch_fields import omittable
from svc_merchants.controllers.dto import examples as ex
from svc_merchants.services.data_model import outlets as domain
from svc_merchants.services.data_model.outlets import OutletChanges


# Coordinates are checked by the service (invalid_coordinates), here only their type.
class CreateOutletInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.OUTLET_IN)
    )

    name: str = Field(min_length=1, max_length=100)
    address: str = Field(min_length=1, max_length=300)
    latitude: float | None = Field(default=None, description="-90 to 90, with longitude")
    longitude: float | None = Field(default=None, description="-180 to 180, with latitude")


class UpdateOutletInput(BaseModel):
    """Only the fields given change; the position is cleared with null for both."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.OUTLET_PATCH)
    )

    name: str = omittable(min_length=1, max_length=100)
    address: str = omittable(min_length=1, max_length=300)
    latitude: float | None = None
    longitude: float | None = None

    def changes(self) -> OutletChanges:
        return OutletChanges(**self.model_dump(exclude_unset=True))


class Outlet(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.OUTLET))

    id: UUID
    merchant_id: UUID
    name: str
    address: str
    latitude: float | None
    longitude: float | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, outlet: domain.Outlet) -> Outlet:
        return cls(
            id=outlet.id,
            merchant_id=outlet.merchant_id,
            name=outlet.name,
            address=outlet.address,
            latitude=outlet.latitude,
            longitude=outlet.longitude,
            created_at=outlet.created_at,
            updated_at=outlet.updated_at,
        )


class OutletPage(PageOut[Outlet]):
    """A page of a merchant's outlets."""
