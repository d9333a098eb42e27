"""MerchantService's rules over in-memory stores: who may do what, and the events written."""

from __future__ import annotations

from collections.abc import Callable
from uuid import uuid4

import pytest

from core.auth import Principal
from core.errors import Forbidden, Unauthenticated
from core.events import DomainEvent
from core.pagination import PageRequest
from svc_merchants.services.data_model.merchants import Merchant, MerchantChanges, MerchantStatus
from svc_merchants.services.errors import (
    InvalidCountry,
    InvalidTransition,
    MerchantNotFound,
)
from svc_merchants.services.merchants import MerchantService

ALL = PageRequest(limit=100)


async def apply(service: MerchantService, principal: Principal, name: str = "Shop") -> Merchant:
    return await service.apply(
        principal=principal,
        name=name,
        country="DE",
        currency="EUR",
        timezone="Europe/Berlin",
        category=None,
    )


async def test_apply_records_the_applicant_and_an_event(
    merchant_service: MerchantService, applicant: Principal, events: list[DomainEvent]
) -> None:
    merchant = await apply(merchant_service, applicant)
    assert merchant.status is MerchantStatus.PENDING
    assert merchant.owner_user_id == applicant.user_id
    [event] = events
    assert (event.type, event.entity_type, event.entity_id, event.actor) == (
        "merchant.applied",
        "merchant",
        str(merchant.id),
        applicant.subject,
    )
    assert event.data["owner_user_id"] == str(applicant.user_id)


async def test_apply_checks_caller_scope_and_fields(
    merchant_service: MerchantService,
    scoped_user: Callable[..., Principal],
    events: list[DomainEvent],
) -> None:
    with pytest.raises(Forbidden):
        await apply(merchant_service, scoped_user(scopes=frozenset({"coupons:read"})))
    client = Principal(
        subject="partner-1", client_id="partner-1", scopes=frozenset({"merchants:write"})
    )
    with pytest.raises(Forbidden):
        await apply(merchant_service, client)
    with pytest.raises(InvalidCountry):
        await merchant_service.apply(
            principal=scoped_user(),
            name="Shop",
            country="XX",
            currency="EUR",
            timezone="UTC",
            category=None,
        )
    assert events == []


async def test_visibility_of_a_pending_merchant(
    merchant_service: MerchantService,
    applicant: Principal,
    admin: Principal,
    stranger: Principal,
) -> None:
    merchant = await apply(merchant_service, applicant)
    assert await merchant_service.get(principal=applicant, merchant_id=merchant.id) == merchant
    assert await merchant_service.get(principal=admin, merchant_id=merchant.id) == merchant
    for outsider in (stranger, None):
        with pytest.raises(MerchantNotFound):
            await merchant_service.get(principal=outsider, merchant_id=merchant.id)
    with pytest.raises(MerchantNotFound):
        await merchant_service.get(principal=admin, merchant_id=uuid4())


async def test_verify_is_for_admins_and_writes_exactly_the_owner_event(
    merchant_service: MerchantService,
    applicant: Principal,
    admin: Principal,
    events: list[DomainEvent],
    locked: list[object],
) -> None:
    merchant = await apply(merchant_service, applicant)
    with pytest.raises(Forbidden):
        await merchant_service.verify(principal=applicant, merchant_id=merchant.id)
    verified = await merchant_service.verify(principal=admin, merchant_id=merchant.id)
    assert verified.status is MerchantStatus.VERIFIED
    assert locked == [merchant.id]  # decided under the row lock
    assert events[-1].type == "merchant.verified"
    assert events[-1].data == {
        "merchant_id": str(merchant.id),
        "owner_user_id": str(applicant.user_id),
    }
    assert events[-1].actor == admin.subject
    with pytest.raises(InvalidTransition):
        await merchant_service.verify(principal=admin, merchant_id=merchant.id)
    with pytest.raises(MerchantNotFound):
        await merchant_service.verify(principal=admin, merchant_id=uuid4())
    assert [e.type for e in events] == ["merchant.applied", "merchant.verified"]
    anyone = await merchant_service.get(principal=None, merchant_id=merchant.id)
    assert anyone.status is MerchantStatus.VERIFIED


async def test_suspend_and_reinstate(
    merchant_service: MerchantService,
    applicant: Principal,
    admin: Principal,
    owner_of: Callable[[Merchant], Principal],
    events: list[DomainEvent],
) -> None:
    merchant = await apply(merchant_service, applicant)
    with pytest.raises(InvalidTransition):
        await merchant_service.suspend(principal=admin, merchant_id=merchant.id, reason="early")
    await merchant_service.verify(principal=admin, merchant_id=merchant.id)
    owner = owner_of(merchant)
    with pytest.raises(Forbidden):
        await merchant_service.suspend(principal=owner, merchant_id=merchant.id, reason="me")
    suspended = await merchant_service.suspend(
        principal=admin, merchant_id=merchant.id, reason="fraud"
    )
    assert suspended.suspension_reason == "fraud"
    assert events[-1].data["reason"] == "fraud"
    with pytest.raises(MerchantNotFound):
        await merchant_service.get(principal=None, merchant_id=merchant.id)
    assert (await merchant_service.get(principal=owner, merchant_id=merchant.id)) == suspended
    with pytest.raises(Forbidden):
        await merchant_service.reinstate(principal=owner, merchant_id=merchant.id)
    reinstated = await merchant_service.reinstate(principal=admin, merchant_id=merchant.id)
    assert reinstated.status is MerchantStatus.VERIFIED
    assert events[-1].type == "merchant.reinstated"
    with pytest.raises(InvalidTransition):
        await merchant_service.reinstate(principal=admin, merchant_id=merchant.id)


async def test_who_may_change_the_profile(
    merchant_service: MerchantService,
    applicant: Principal,
    admin: Principal,
    stranger: Principal,
    owner_of: Callable[[Merchant], Principal],
    events: list[DomainEvent],
) -> None:
    merchant = await apply(merchant_service, applicant)
    pending = await merchant_service.update(
        principal=applicant, merchant_id=merchant.id, changes=MerchantChanges(name="Mine")
    )
    assert pending.name == "Mine"
    with pytest.raises(MerchantNotFound):
        await merchant_service.update(
            principal=stranger, merchant_id=merchant.id, changes=MerchantChanges(name="X")
        )
    await merchant_service.verify(principal=admin, merchant_id=merchant.id)
    # Verified: power comes from the owner membership, not from having applied.
    with pytest.raises(Forbidden):
        await merchant_service.update(
            principal=applicant, merchant_id=merchant.id, changes=MerchantChanges(name="X")
        )
    with pytest.raises(Forbidden):
        await merchant_service.update(
            principal=stranger, merchant_id=merchant.id, changes=MerchantChanges(name="X")
        )
    owned = await merchant_service.update(
        principal=owner_of(merchant), merchant_id=merchant.id, changes=MerchantChanges(name="Ours")
    )
    assert owned.name == "Ours"
    by_admin = await merchant_service.update(
        principal=admin, merchant_id=merchant.id, changes=MerchantChanges(timezone="UTC")
    )
    assert by_admin.timezone == "UTC"
    updates = [e for e in events if e.type == "merchant.updated"]
    assert [e.data["changed"] for e in updates] == [
        {"name": "Mine"},
        {"name": "Ours"},
        {"timezone": "UTC"},
    ]


async def test_the_list_by_audience(
    merchant_service: MerchantService,
    applicant: Principal,
    admin: Principal,
    stranger: Principal,
) -> None:
    pending = await apply(merchant_service, applicant, "Pending")
    verified = await apply(merchant_service, applicant, "Verified")
    await merchant_service.verify(principal=admin, merchant_id=verified.id)

    async def names(
        principal: Principal | None, status: MerchantStatus | None = None, mine: bool = False
    ) -> list[str]:
        page = await merchant_service.list_merchants(
            principal=principal, status=status, mine=mine, page=ALL
        )
        return [m.name for m in page.items]

    assert await names(None) == ["Verified"]
    assert await names(admin) == ["Verified"]
    assert await names(admin, status=MerchantStatus.PENDING) == ["Pending"]
    assert await names(stranger, status=MerchantStatus.VERIFIED) == ["Verified"]
    assert await names(applicant, mine=True) == ["Pending", "Verified"]
    assert await names(stranger, mine=True) == []
    with pytest.raises(Forbidden):
        await names(stranger, status=MerchantStatus.PENDING)
    with pytest.raises(Unauthenticated):
        await names(None, status=MerchantStatus.SUSPENDED)
    with pytest.raises(Unauthenticated):
        await names(None, mine=True)
    assert pending.id != verified.id


async def test_the_list_pages(
    merchant_service: MerchantService, applicant: Principal, admin: Principal
) -> None:
    for number in range(3):
        merchant = await apply(merchant_service, applicant, f"M{number}")
        await merchant_service.verify(principal=admin, merchant_id=merchant.id)
    first = await merchant_service.list_merchants(
        principal=None, status=None, mine=False, page=PageRequest(limit=2)
    )
    assert [m.name for m in first.items] == ["M0", "M1"]
    assert first.next_cursor is not None
    rest = await merchant_service.list_merchants(
        principal=None, status=None, mine=False, page=PageRequest(limit=2, cursor=first.next_cursor)
    )
    assert [m.name for m in rest.items] == ["M2"]
    assert rest.next_cursor is None
