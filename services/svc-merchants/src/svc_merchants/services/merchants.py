"""Merchants: applications, profiles, and the admin's verification and suspension."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from core.auth import Principal
from core.clock import utcnow
from core.errors import Forbidden, Unauthenticated
from core.pagination import Page, PageRequest
from svc_merchants.services import access
from svc_merchants.services.data_model.merchants import Merchant, MerchantChanges, MerchantStatus
from svc_merchants.services.errors import MerchantNotFound
from svc_merchants.services.events import (
    MERCHANT_APPLIED,
    MERCHANT_REINSTATED,
    MERCHANT_SUSPENDED,
    MERCHANT_UPDATED,
    MERCHANT_VERIFIED,
    merchant_event,
)
from svc_merchants.services.ports import EventLog, MerchantStore


class MerchantService:
    def __init__(self, *, merchants: MerchantStore, events: EventLog) -> None:
        self._merchants = merchants
        self._events = events

    async def _locked(self, merchant_id: UUID) -> Merchant:
        merchant = await self._merchants.get(merchant_id, lock=True)
        if merchant is None:
            raise MerchantNotFound()
        return merchant

    async def apply(
        self,
        *,
        principal: Principal,
        name: str,
        country: str,
        currency: str,
        timezone: str,
        category: str | None,
    ) -> Merchant:
        """A signed-in user applies; the merchant is pending until an admin verifies it."""
        access.require_write_scope(principal)
        if principal.user_id is None:
            raise Forbidden("A client token cannot apply for a merchant; sign in as a user")
        merchant = Merchant.apply(
            owner_user_id=principal.user_id,
            name=name,
            country=country,
            currency=currency,
            timezone=timezone,
            category=category,
            at=utcnow(),
        )
        await self._merchants.add(merchant)
        await self._events.add(
            merchant_event(
                MERCHANT_APPLIED,
                merchant_id=merchant.id,
                actor=principal,
                data={
                    "merchant_id": str(merchant.id),
                    "owner_user_id": str(merchant.owner_user_id),
                    "name": merchant.name,
                    "country": merchant.country,
                    "currency": merchant.currency,
                    "timezone": merchant.timezone,
                    "category": merchant.category,
                },
            )
        )
        return merchant

    async def get(self, *, principal: Principal | None, merchant_id: UUID) -> Merchant:
        return access.require_visible(principal, await self._merchants.get(merchant_id))

    async def list_merchants(
        self,
        *,
        principal: Principal | None,
        status: MerchantStatus | None,
        mine: bool,
        page: PageRequest,
    ) -> Page[Merchant]:
        """Verified merchants for everyone. Admins choose the status; with `mine`, a user
        sees their own applications in every status."""
        owner_user_id: UUID | None = None
        if mine:
            if principal is None:
                raise Unauthenticated("Sign in to list your own merchants")
            if principal.user_id is None:
                raise Forbidden("A client token has no merchants of its own")
            owner_user_id = principal.user_id
        elif status is None:
            status = MerchantStatus.VERIFIED
        elif status is not MerchantStatus.VERIFIED:
            if principal is None:
                raise Unauthenticated("Only admins list merchants of other statuses")
            access.require_admin(principal)
        return await self._merchants.browse(status=status, owner_user_id=owner_user_id, page=page)

    async def update(
        self, *, principal: Principal, merchant_id: UUID, changes: MerchantChanges
    ) -> Merchant:
        access.require_write_scope(principal)
        merchant = access.require_visible(
            principal, await self._merchants.get(merchant_id, lock=True)
        )
        access.require_profile_editor(principal, merchant)
        updated, changed = merchant.changed(changes, at=utcnow())
        if not changed:
            return updated
        await self._merchants.save(updated)
        await self._events.add(
            merchant_event(
                MERCHANT_UPDATED,
                merchant_id=merchant.id,
                actor=principal,
                data={"merchant_id": str(merchant.id), "changed": changed},
            )
        )
        return updated

    async def _admin_transition(
        self,
        *,
        principal: Principal,
        merchant_id: UUID,
        move: Callable[[Merchant], Merchant],
        event_type: str,
        **extra: object,
    ) -> Merchant:
        """An admin moves the merchant through its state machine, under the row's lock."""
        access.require_admin(principal)
        moved = move(await self._locked(merchant_id))
        await self._merchants.save(moved)
        await self._events.add(
            merchant_event(
                event_type,
                merchant_id=moved.id,
                actor=principal,
                # svc-auth's consumer of merchant.verified reads exactly these two members.
                data={
                    "merchant_id": str(moved.id),
                    "owner_user_id": str(moved.owner_user_id),
                    **extra,
                },
            )
        )
        return moved

    async def verify(self, *, principal: Principal, merchant_id: UUID) -> Merchant:
        """pending -> verified; svc-auth makes the applicant the owner from the event."""
        return await self._admin_transition(
            principal=principal,
            merchant_id=merchant_id,
            move=lambda merchant: merchant.verify(at=utcnow()),
            event_type=MERCHANT_VERIFIED,
        )

    async def suspend(self, *, principal: Principal, merchant_id: UUID, reason: str) -> Merchant:
        """verified -> suspended: its campaigns stop issuing and redeeming."""
        return await self._admin_transition(
            principal=principal,
            merchant_id=merchant_id,
            move=lambda merchant: merchant.suspend(reason=reason, at=utcnow()),
            event_type=MERCHANT_SUSPENDED,
            reason=reason.strip(),  # as the merchant stores it
        )

    async def reinstate(self, *, principal: Principal, merchant_id: UUID) -> Merchant:
        """suspended -> verified, without a second verification."""
        return await self._admin_transition(
            principal=principal,
            merchant_id=merchant_id,
            move=lambda merchant: merchant.reinstate(at=utcnow()),
            event_type=MERCHANT_REINSTATED,
        )
