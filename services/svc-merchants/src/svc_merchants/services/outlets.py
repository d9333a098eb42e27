"""Outlets: a verified merchant's owner manages them; anyone may list a verified merchant's."""

from __future__ import annotations

from uuid import UUID

from core.auth import Principal
from core.clock import utcnow
from core.pagination import Page, PageRequest
from svc_merchants.services import access
from svc_merchants.services.data_model.merchants import Merchant, MerchantStatus
from svc_merchants.services.data_model.outlets import Outlet, OutletChanges, check_coordinates
from svc_merchants.services.errors import MerchantNotVerified, OutletLimitReached, OutletNotFound
from svc_merchants.services.events import (
    OUTLET_CREATED,
    OUTLET_DELETED,
    OUTLET_UPDATED,
    merchant_event,
)
from svc_merchants.services.ports import EventLog, MerchantStore, OutletStore


def _outlet_data(outlet: Outlet) -> dict[str, object]:
    return {
        "merchant_id": str(outlet.merchant_id),
        "outlet_id": str(outlet.id),
        "name": outlet.name,
        "address": outlet.address,
        "latitude": outlet.latitude,
        "longitude": outlet.longitude,
    }


class OutletService:
    def __init__(
        self,
        *,
        merchants: MerchantStore,
        outlets: OutletStore,
        events: EventLog,
        max_outlets_per_merchant: int,
    ) -> None:
        self._merchants = merchants
        self._outlets = outlets
        self._events = events
        self._max_outlets = max_outlets_per_merchant

    async def _managed_merchant(self, principal: Principal, merchant_id: UUID) -> Merchant:
        """The merchant, locked, when the caller is its owner and it is verified.

        The lock orders outlet changes after a concurrent suspension and keeps the outlet
        count exact.
        """
        access.require_write_scope(principal)
        merchant = access.require_visible(
            principal, await self._merchants.get(merchant_id, lock=True)
        )
        access.require_owner(principal, merchant)
        if merchant.status is not MerchantStatus.VERIFIED:
            raise MerchantNotVerified(
                f"A {merchant.status.value} merchant's outlets cannot be changed"
            )
        return merchant

    async def _outlet(self, merchant_id: UUID, outlet_id: UUID) -> Outlet:
        outlet = await self._outlets.get(merchant_id=merchant_id, outlet_id=outlet_id)
        if outlet is None:
            raise OutletNotFound()
        return outlet

    async def create(
        self,
        *,
        principal: Principal,
        merchant_id: UUID,
        name: str,
        address: str,
        latitude: float | None,
        longitude: float | None,
    ) -> Outlet:
        check_coordinates(latitude, longitude)
        merchant = await self._managed_merchant(principal, merchant_id)
        if await self._outlets.count(merchant.id) >= self._max_outlets:
            raise OutletLimitReached(f"A merchant may have at most {self._max_outlets} outlets")
        outlet = Outlet.open(
            merchant_id=merchant.id,
            name=name,
            address=address,
            latitude=latitude,
            longitude=longitude,
            at=utcnow(),
        )
        await self._outlets.add(outlet)
        await self._events.add(
            merchant_event(
                OUTLET_CREATED, merchant_id=merchant.id, actor=principal, data=_outlet_data(outlet)
            )
        )
        return outlet

    async def list_outlets(
        self, *, principal: Principal | None, merchant_id: UUID, page: PageRequest
    ) -> Page[Outlet]:
        merchant = access.require_visible(principal, await self._merchants.get(merchant_id))
        return await self._outlets.browse(merchant_id=merchant.id, page=page)

    async def update(
        self, *, principal: Principal, merchant_id: UUID, outlet_id: UUID, changes: OutletChanges
    ) -> Outlet:
        merchant = await self._managed_merchant(principal, merchant_id)
        outlet = await self._outlet(merchant.id, outlet_id)
        updated, changed = outlet.changed(changes, at=utcnow())
        if not changed:
            return updated
        await self._outlets.save(updated)
        await self._events.add(
            merchant_event(
                OUTLET_UPDATED,
                merchant_id=merchant.id,
                actor=principal,
                data={
                    "merchant_id": str(merchant.id),
                    "outlet_id": str(outlet.id),
                    "changed": changed,
                },
            )
        )
        return updated

    async def delete(self, *, principal: Principal, merchant_id: UUID, outlet_id: UUID) -> None:
        merchant = await self._managed_merchant(principal, merchant_id)
        if not await self._outlets.delete(merchant_id=merchant.id, outlet_id=outlet_id):
            raise OutletNotFound()
        await self._events.add(
            merchant_event(
                OUTLET_DELETED,
                merchant_id=merchant.id,
                actor=principal,
                data={"merchant_id": str(merchant.id), "outlet_id": str(outlet_id)},
            )
        )
