from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from svc_merchants.services.data_model.merchants import Merchant, MerchantStatus
from svc_merchants.services.data_model.outlets import Outlet

# Registers the domain enum with Strawberry, so it serves GraphQL as it is.
strawberry.enum(MerchantStatus, name="MerchantStatus")


@strawberry.type
class MerchantType:
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
    def of(cls, merchant: Merchant) -> MerchantType:
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


@strawberry.type
class MerchantPage:
    items: list[MerchantType]
    next_cursor: str | None


@strawberry.type
class OutletType:
    id: UUID
    merchant_id: UUID
    name: str
    address: str
    latitude: float | None
    longitude: float | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, outlet: Outlet) -> OutletType:
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


@strawberry.type
class OutletPage:
    items: list[OutletType]
    next_cursor: str | None
