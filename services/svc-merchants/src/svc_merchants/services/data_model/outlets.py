"""An outlet: a place where a merchant's coupons are redeemed."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID, uuid4

from svc_merchants.services.data_model.changes import KEEP, Keep, differences, pick
from svc_merchants.services.errors import InvalidCoordinates

OUTLET_FIELDS = ("name", "address", "latitude", "longitude")


def check_coordinates(latitude: float | None, longitude: float | None) -> None:
    """A position is both coordinates, in range, or none at all."""
    if latitude is None and longitude is None:
        return
    if latitude is None or longitude is None:
        raise InvalidCoordinates("Give latitude and longitude together, or neither")
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        raise InvalidCoordinates(f"latitude {latitude} is outside -90..90")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        raise InvalidCoordinates(f"longitude {longitude} is outside -180..180")


@dataclass(frozen=True, slots=True)
class OutletChanges:
    """Fields of a PATCH; `KEEP` leaves a field as it is, the position may be cleared."""

    name: str | Keep = KEEP
    address: str | Keep = KEEP
    latitude: float | Keep | None = KEEP
    longitude: float | Keep | None = KEEP


@dataclass(frozen=True, slots=True)
class Outlet:
    id: UUID
    merchant_id: UUID
    name: str
    address: str
    latitude: float | None
    longitude: float | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def open(
        cls,
        *,
        merchant_id: UUID,
        name: str,
        address: str,
        latitude: float | None,
        longitude: float | None,
        at: datetime,
    ) -> Outlet:
        check_coordinates(latitude, longitude)
        return cls(
            id=uuid4(),
            merchant_id=merchant_id,
            name=name.strip(),
            address=address.strip(),
            latitude=latitude,
            longitude=longitude,
            created_at=at,
            updated_at=at,
        )

    def changed(self, changes: OutletChanges, *, at: datetime) -> tuple[Outlet, dict[str, object]]:
        """The outlet after the changes, and the fields that really changed."""
        after = replace(
            self,
            name=pick(changes.name, self.name).strip(),
            address=pick(changes.address, self.address).strip(),
            latitude=pick(changes.latitude, self.latitude),
            longitude=pick(changes.longitude, self.longitude),
        )
        check_coordinates(after.latitude, after.longitude)
        changed = differences(self, after, OUTLET_FIELDS)
        return (replace(after, updated_at=at) if changed else self), changed
