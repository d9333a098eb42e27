"""Merchant memberships: owners (from verification), staff (added by owners)."""

from __future__ import annotations

from uuid import UUID

from core.auth import Principal
from core.errors import Forbidden
from core.pagination import Page, PageRequest
from svc_auth.services.data_model.users import Member, MerchantRole, normalise_email
from svc_auth.services.errors import (
    AlreadyMember,
    InvalidRole,
    MemberNotFound,
    OwnerNotRemovable,
    UserNotFound,
)
from svc_auth.services.events import auth_event
from svc_auth.services.ports import EventLog, MembershipStore, UserStore


class MembershipService:
    def __init__(self, *, users: UserStore, memberships: MembershipStore, events: EventLog) -> None:
        self._users = users
        self._memberships = memberships
        self._events = events

    async def _require_owner_or_admin(self, principal: Principal, merchant_id: UUID) -> None:
        # Checked against the table, not the token: a revoked owner loses power at once.
        if principal.is_admin:
            return
        if principal.user_id is not None:
            role = await self._memberships.role_of(
                user_id=principal.user_id, merchant_id=merchant_id
            )
            if role is MerchantRole.OWNER:
                return
        raise Forbidden("Only the merchant's owner or an admin may manage its members")

    async def members(
        self, *, principal: Principal, merchant_id: UUID, page: PageRequest
    ) -> Page[Member]:
        await self._require_owner_or_admin(principal, merchant_id)
        return await self._memberships.members(merchant_id, page=page)

    async def add_member(
        self, *, principal: Principal, merchant_id: UUID, email: str, role: MerchantRole
    ) -> Member:
        await self._require_owner_or_admin(principal, merchant_id)
        if role != MerchantRole.STAFF:
            raise InvalidRole("Members are added as staff; owners come from verification")
        credentials = await self._users.credentials(normalise_email(email))
        if credentials is None:
            raise UserNotFound(f"No user is registered as {normalise_email(email)}")
        user = credentials.user
        if not await self._memberships.add(
            user_id=user.id, merchant_id=merchant_id, role=MerchantRole.STAFF
        ):
            raise AlreadyMember()
        await self._events.add(
            auth_event(
                "merchant.member_added",
                entity_type="merchant",
                entity_id=merchant_id,
                actor=principal,
                data={"user_id": str(user.id), "role": MerchantRole.STAFF.value},
            )
        )
        return Member(user_id=user.id, email=user.email, role=MerchantRole.STAFF)

    async def remove_member(
        self, *, principal: Principal, merchant_id: UUID, user_id: UUID
    ) -> None:
        await self._require_owner_or_admin(principal, merchant_id)
        role = await self._memberships.role_of(user_id=user_id, merchant_id=merchant_id)
        if role is None:
            raise MemberNotFound()
        if role is MerchantRole.OWNER:
            raise OwnerNotRemovable()
        await self._memberships.remove(user_id=user_id, merchant_id=merchant_id)
        await self._events.add(
            auth_event(
                "merchant.member_removed",
                entity_type="merchant",
                entity_id=merchant_id,
                actor=principal,
                data={"user_id": str(user_id)},
            )
        )

    async def grant_owner(
        self, *, merchant_id: UUID, owner_user_id: UUID, actor: str | None
    ) -> None:
        """From `merchant.verified`: the applicant becomes the merchant's owner."""
        if await self._users.get(owner_user_id) is None:
            raise UserNotFound(f"merchant.verified names unknown user {owner_user_id}")
        await self._memberships.make_owner(user_id=owner_user_id, merchant_id=merchant_id)
        await self._events.add(
            auth_event(
                "merchant.owner_granted",
                entity_type="merchant",
                entity_id=merchant_id,
                actor=actor,
                data={"user_id": str(owner_user_id)},
            )
        )
