"""OutletService's rules over in-memory stores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from uuid import uuid4

import pytest

from core.auth import Principal
from core.errors import Forbidden
from core.events import DomainEvent
from core.pagination import PageRequest
from svc_merchants.services.data_model.merchants import Merchant
from svc_merchants.services.data_model.outlets import Outlet, OutletChanges
from svc_merchants.services.errors import (
    InvalidCoordinates,
    MerchantNotFound,
    MerchantNotVerified,
    OutletLimitReached,
    OutletNotFound,
)
from svc_merchants.services.merchants import MerchantService
from svc_merchants.services.outlets import OutletService

ALL = PageRequest(limit=100)


@pytest.fixture
async def merchant(
    merchant_service: MerchantService, applicant: Principal, admin: Principal
) -> Merchant:
    applied = await merchant_service.apply(
        principal=applicant,
        name="Shop",
        country="AT",
        currency="EUR",
        timezone="Europe/Vienna",
        category=None,
    )
    return await merchant_service.verify(principal=admin, merchant_id=applied.id)


@pytest.fixture
def owner(merchant: Merchant, owner_of: Callable[[Merchant], Principal]) -> Principal:
    return owner_of(merchant)


async def open_outlet(
    service: OutletService,
    owner: Principal,
    merchant: Merchant,
    *,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Outlet:
    return await service.create(
        principal=owner,
        merchant_id=merchant.id,
        name="Kiosk",
        address="Ring 1",
        latitude=latitude,
        longitude=longitude,
    )


async def test_the_owner_opens_lists_changes_and_closes_an_outlet(
    outlet_service: OutletService,
    merchant: Merchant,
    owner: Principal,
    events: list[DomainEvent],
    locked: list[object],
) -> None:
    outlet = await open_outlet(outlet_service, owner, merchant, latitude=48.2, longitude=16.37)
    assert outlet.merchant_id == merchant.id
    assert locked[-1] == merchant.id
    assert events[-1].type == "outlet.created"
    assert events[-1].entity_id == str(merchant.id)
    assert events[-1].data["outlet_id"] == str(outlet.id)

    listed = await outlet_service.list_outlets(principal=None, merchant_id=merchant.id, page=ALL)
    assert listed.items == [outlet]

    moved = await outlet_service.update(
        principal=owner,
        merchant_id=merchant.id,
        outlet_id=outlet.id,
        changes=OutletChanges(address="Ring 2"),
    )
    assert moved.address == "Ring 2"
    assert events[-1].data == {
        "merchant_id": str(merchant.id),
        "outlet_id": str(outlet.id),
        "changed": {"address": "Ring 2"},
    }
    unchanged_count = len(events)
    await outlet_service.update(
        principal=owner,
        merchant_id=merchant.id,
        outlet_id=outlet.id,
        changes=OutletChanges(address="Ring 2"),
    )
    assert len(events) == unchanged_count

    await outlet_service.delete(principal=owner, merchant_id=merchant.id, outlet_id=outlet.id)
    assert events[-1].type == "outlet.deleted"
    assert (
        await outlet_service.list_outlets(principal=owner, merchant_id=merchant.id, page=ALL)
    ).items == []
    with pytest.raises(OutletNotFound):
        await outlet_service.delete(principal=owner, merchant_id=merchant.id, outlet_id=outlet.id)


async def test_only_the_owner_manages_outlets(
    outlet_service: OutletService,
    merchant: Merchant,
    owner: Principal,
    applicant: Principal,
    admin: Principal,
    stranger: Principal,
    scoped_user: Callable[..., Principal],
) -> None:
    outlet = await open_outlet(outlet_service, owner, merchant)
    outsiders = [
        applicant,
        admin,
        stranger,
        scoped_user(uuid4()),
        scoped_user(merchant.id, scopes=frozenset({"coupons:read"})),
    ]
    for outsider in outsiders:
        with pytest.raises(Forbidden):
            await open_outlet(outlet_service, outsider, merchant)
        with pytest.raises(Forbidden):
            await outlet_service.update(
                principal=outsider,
                merchant_id=merchant.id,
                outlet_id=outlet.id,
                changes=OutletChanges(name="X"),
            )
        with pytest.raises(Forbidden):
            await outlet_service.delete(
                principal=outsider, merchant_id=merchant.id, outlet_id=outlet.id
            )


async def test_outlets_need_a_verified_merchant(
    outlet_service: OutletService,
    merchant_service: MerchantService,
    merchant: Merchant,
    owner: Principal,
    admin: Principal,
    stranger: Principal,
    scoped_user: Callable[..., Principal],
) -> None:
    pending = await merchant_service.apply(
        principal=stranger,
        name="Later",
        country="AT",
        currency="EUR",
        timezone="UTC",
        category=None,
    )
    with pytest.raises(MerchantNotVerified):
        await open_outlet(outlet_service, scoped_user(pending.id), pending)
    with pytest.raises(MerchantNotFound):
        await outlet_service.list_outlets(principal=None, merchant_id=pending.id, page=ALL)
    await merchant_service.suspend(principal=admin, merchant_id=merchant.id, reason="checks")
    with pytest.raises(MerchantNotVerified):
        await open_outlet(outlet_service, owner, merchant)
    with pytest.raises(MerchantNotFound):
        await open_outlet(outlet_service, owner, replace(merchant, id=uuid4()))


async def test_the_outlet_limit_and_positions(
    outlet_service: OutletService, merchant: Merchant, owner: Principal, events: list[DomainEvent]
) -> None:
    with pytest.raises(InvalidCoordinates):
        await open_outlet(outlet_service, owner, merchant, latitude=10.0)
    with pytest.raises(InvalidCoordinates):
        await open_outlet(outlet_service, owner, merchant, latitude=95.0, longitude=0.0)
    first = await open_outlet(outlet_service, owner, merchant)
    await open_outlet(outlet_service, owner, merchant)  # the fixture's limit is two
    with pytest.raises(OutletLimitReached):
        await open_outlet(outlet_service, owner, merchant)
    await outlet_service.delete(principal=owner, merchant_id=merchant.id, outlet_id=first.id)
    await open_outlet(outlet_service, owner, merchant)
    assert [e.type for e in events].count("outlet.created") == 3


async def test_an_outlet_is_found_only_through_its_own_merchant(
    outlet_service: OutletService,
    merchant_service: MerchantService,
    merchant: Merchant,
    owner: Principal,
    admin: Principal,
    applicant: Principal,
    owner_of: Callable[[Merchant], Principal],
) -> None:
    outlet = await open_outlet(outlet_service, owner, merchant)
    applied = await merchant_service.apply(
        principal=applicant,
        name="Second",
        country="AT",
        currency="EUR",
        timezone="UTC",
        category=None,
    )
    other = await merchant_service.verify(principal=admin, merchant_id=applied.id)
    with pytest.raises(OutletNotFound):
        await outlet_service.update(
            principal=owner_of(other),
            merchant_id=other.id,
            outlet_id=outlet.id,
            changes=OutletChanges(name="Taken"),
        )
    with pytest.raises(OutletNotFound):
        await outlet_service.delete(
            principal=owner_of(other), merchant_id=other.id, outlet_id=outlet.id
        )
