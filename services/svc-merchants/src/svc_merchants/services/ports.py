"""What the services need from storage; repositories implement these, tests may fake them."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from core.events import DomainEvent
from core.pagination import Page, PageRequest
from svc_merchants.services.data_model.merchants import Merchant, MerchantStatus
from svc_merchants.services.data_model.outlets import Outlet


class MerchantStore(Protocol):
    async def add(self, merchant: Merchant) -> None: ...

    async def get(self, merchant_id: UUID, *, lock: bool = False) -> Merchant | None:
        """The merchant; with `lock`, its row stays locked until the transaction ends."""
        ...

    async def save(self, merchant: Merchant) -> None: ...

    async def browse(
        self, *, status: MerchantStatus | None, owner_user_id: UUID | None, page: PageRequest
    ) -> Page[Merchant]:
        """Oldest first; `None` filters nothing."""
        ...


class OutletStore(Protocol):
    async def add(self, outlet: Outlet) -> None: ...

    async def get(self, *, merchant_id: UUID, outlet_id: UUID) -> Outlet | None: ...

    async def save(self, outlet: Outlet) -> None: ...

    async def delete(self, *, merchant_id: UUID, outlet_id: UUID) -> bool:
        """False when the merchant has no such outlet."""
        ...

    async def count(self, merchant_id: UUID) -> int: ...

    async def browse(self, *, merchant_id: UUID, page: PageRequest) -> Page[Outlet]:
        """Oldest first."""
        ...


class EventLog(Protocol):
    async def add(self, event: DomainEvent) -> None: ...
