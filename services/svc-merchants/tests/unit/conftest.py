"""In-memory stores behind the ports, so the services' rules are tested without a database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID, uuid4

import pytest

from core.auth import Membership, Principal
from core.events import DomainEvent
from core.pagination import Page, PageRequest, decode_cursor, encode_cursor
from svc_merchants.services.data_model.merchants import Merchant, MerchantStatus
from svc_merchants.services.data_model.outlets import Outlet
from svc_merchants.services.merchants import MerchantService
from svc_merchants.services.outlets import OutletService

MAX_OUTLETS = 2
USER_SCOPES = frozenset({"coupons:read", "coupons:write", "merchants:write"})

Item = TypeVar("Item", Merchant, Outlet)


def _page(items: list[Item], page: PageRequest) -> Page[Item]:
    ordered = sorted(items, key=lambda item: (item.created_at, item.id))
    if page.cursor:
        created_at, item_id = decode_cursor(page.cursor, 2)
        ordered = [
            i for i in ordered if (i.created_at.isoformat(), str(i.id)) > (created_at, item_id)
        ]
    chosen = ordered[: page.limit]
    more = len(ordered) > page.limit
    cursor = encode_cursor(chosen[-1].created_at.isoformat(), chosen[-1].id) if more else None
    return Page(items=chosen, next_cursor=cursor)


@dataclass
class FakeMerchantStore:
    rows: dict[UUID, Merchant] = field(default_factory=dict)
    locked: list[UUID] = field(default_factory=list)

    async def add(self, merchant: Merchant) -> None:
        assert merchant.id not in self.rows
        self.rows[merchant.id] = merchant

    async def get(self, merchant_id: UUID, *, lock: bool = False) -> Merchant | None:
        if lock:
            self.locked.append(merchant_id)
        return self.rows.get(merchant_id)

    async def save(self, merchant: Merchant) -> None:
        assert merchant.id in self.rows
        self.rows[merchant.id] = merchant

    async def browse(
        self, *, status: MerchantStatus | None, owner_user_id: UUID | None, page: PageRequest
    ) -> Page[Merchant]:
        found = [
            m
            for m in self.rows.values()
            if (status is None or m.status is status)
            and (owner_user_id is None or m.owner_user_id == owner_user_id)
        ]
        return _page(found, page)


@dataclass
class FakeOutletStore:
    rows: dict[UUID, Outlet] = field(default_factory=dict)

    async def add(self, outlet: Outlet) -> None:
        self.rows[outlet.id] = outlet

    async def get(self, *, merchant_id: UUID, outlet_id: UUID) -> Outlet | None:
        outlet = self.rows.get(outlet_id)
        return outlet if outlet and outlet.merchant_id == merchant_id else None

    async def save(self, outlet: Outlet) -> None:
        assert outlet.id in self.rows
        self.rows[outlet.id] = outlet

    async def delete(self, *, merchant_id: UUID, outlet_id: UUID) -> bool:
        if await self.get(merchant_id=merchant_id, outlet_id=outlet_id) is None:
            return False
        del self.rows[outlet_id]
        return True

    async def count(self, merchant_id: UUID) -> int:
        return sum(1 for o in self.rows.values() if o.merchant_id == merchant_id)

    async def browse(self, *, merchant_id: UUID, page: PageRequest) -> Page[Outlet]:
        return _page([o for o in self.rows.values() if o.merchant_id == merchant_id], page)


@dataclass
class RecordingEventLog:
    events: list[DomainEvent] = field(default_factory=list)

    async def add(self, event: DomainEvent) -> None:
        self.events.append(event)


@pytest.fixture
def merchant_store() -> FakeMerchantStore:
    return FakeMerchantStore()


@pytest.fixture
def event_log() -> RecordingEventLog:
    return RecordingEventLog()


@pytest.fixture
def events(event_log: RecordingEventLog) -> list[DomainEvent]:
    """The events the services wrote, in order."""
    return event_log.events


@pytest.fixture
def locked(merchant_store: FakeMerchantStore) -> list[UUID]:
    """The merchants whose rows the services locked, in order."""
    return merchant_store.locked


@pytest.fixture
def merchant_service(
    merchant_store: FakeMerchantStore, event_log: RecordingEventLog
) -> MerchantService:
    return MerchantService(merchants=merchant_store, events=event_log)


@pytest.fixture
def outlet_service(
    merchant_store: FakeMerchantStore, event_log: RecordingEventLog
) -> OutletService:
    return OutletService(
        merchants=merchant_store,
        outlets=FakeOutletStore(),
        events=event_log,
        max_outlets_per_merchant=MAX_OUTLETS,
    )


def user(*owned: UUID, scopes: frozenset[str] = USER_SCOPES) -> Principal:
    return Principal(
        subject=str(uuid4()),
        client_id="merchant-portal",
        roles=frozenset({"customer"}),
        scopes=scopes,
        memberships=tuple(Membership(merchant_id=m, role="owner") for m in owned),
    )


@pytest.fixture
def applicant() -> Principal:
    return user()


@pytest.fixture
def stranger() -> Principal:
    return user()


@pytest.fixture
def admin() -> Principal:
    return Principal(
        subject=str(uuid4()),
        client_id="admin-portal",
        roles=frozenset({"admin", "customer"}),
        scopes=USER_SCOPES | {"admin"},
    )


@pytest.fixture
def owner_of() -> Callable[[Merchant], Principal]:
    """owner_of(merchant): the applicant's token after svc-auth made them its owner."""

    def principal(merchant: Merchant) -> Principal:
        return Principal(
            subject=str(merchant.owner_user_id),
            client_id="merchant-portal",
            roles=frozenset({"customer"}),
            scopes=USER_SCOPES,
            memberships=(Membership(merchant_id=merchant.id, role="owner"),),
        )

    return principal


@pytest.fixture
def scoped_user() -> Callable[..., Principal]:
    """scoped_user(*owned_merchant_ids, scopes=...): a user with chosen memberships and scopes."""
    return user
