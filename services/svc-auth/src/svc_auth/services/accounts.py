"""Users: registration, profiles, platform roles."""

from __future__ import annotations

import logging
from uuid import UUID

from core.auth import Principal
from core.errors import Forbidden, TooManyRequests, Unauthenticated
from core.pagination import Page, PageRequest
from svc_auth.services.data_model.users import (
    GRANTABLE_ROLES,
    PlatformRole,
    User,
    normalise_email,
)
from svc_auth.services.errors import (
    EmailTaken,
    InvalidRole,
    LastAdmin,
    SignUpUnavailable,
    UserNotFound,
)
from svc_auth.services.events import auth_event
from svc_auth.services.limits import AddressLimit
from svc_auth.services.ports import CountersUnavailable, EventLog, UserStore
from svc_auth.utils.passwords import PasswordHasher

logger = logging.getLogger(__name__)


def _require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Only platform admins may do this")


def _parse_role(role: str) -> PlatformRole:
    try:
        parsed = PlatformRole(role)
    except ValueError:
        raise InvalidRole(f"Unknown role {role!r}; grantable: admin") from None
    if parsed not in GRANTABLE_ROLES:
        raise InvalidRole(f"The role {role!r} is not granted or removed by hand")
    return parsed


class AccountService:
    def __init__(
        self, *, users: UserStore, events: EventLog, hasher: PasswordHasher, sign_ups: AddressLimit
    ) -> None:
        self._users = users
        self._events = events
        self._hasher = hasher
        self._sign_ups = sign_ups

    async def register(self, *, email: str, password: str, display_name: str, address: str) -> User:
        """A sign-up from `address` (the client's, as our edge saw it). Counted here, where
        every controller comes through: a REST request, a GraphQL document and each of its
        aliases all take one from the same per-address limit."""
        try:
            wait = await self._sign_ups.take(address)
        except CountersUnavailable as exc:
            # The limit is what bounds how many addresses a caller can test against
            # email_taken (and how many password hashes sign-ups cost): nothing uncounted.
            logger.warning("sign-ups cannot be counted, sign-up refused: %s", exc)
            raise SignUpUnavailable("Sign-up is unavailable for a moment; try again") from None
        if wait is not None:
            raise TooManyRequests(
                "Too many sign-ups from this address; try again later", retry_after=wait
            )
        return await self._create(email=email, password=password, display_name=display_name)

    async def _create(self, *, email: str, password: str, display_name: str) -> User:
        email = normalise_email(email)
        user = await self._users.create(
            email=email,
            password_hash=await self._hasher.hash(password),
            display_name=display_name.strip(),
        )
        if user is None:
            raise EmailTaken(f"{email} is already registered")
        await self._users.add_role(user.id, PlatformRole.CUSTOMER)
        await self._events.add(
            auth_event(
                "user.registered",
                entity_type="user",
                entity_id=user.id,
                actor=str(user.id),
                data={"user_id": str(user.id)},
            )
        )
        return await self._get(user.id)

    async def _get(self, user_id: UUID) -> User:
        user = await self._users.get(user_id)
        if user is None:
            raise UserNotFound()
        return user

    async def me(self, *, principal: Principal) -> User:
        if principal.user_id is None:
            raise Forbidden("A client token has no user profile")
        user = await self._users.get(principal.user_id)
        if user is None:
            raise Unauthenticated("The token's user no longer exists")
        return user

    async def list_users(
        self, *, principal: Principal, email: str | None, page: PageRequest
    ) -> Page[User]:
        _require_admin(principal)
        return await self._users.list(email=normalise_email(email) if email else None, page=page)

    async def grant_role(self, *, principal: Principal, user_id: UUID, role: str) -> User:
        _require_admin(principal)
        parsed = _parse_role(role)
        user = await self._get(user_id)
        if parsed not in user.roles:
            await self._users.add_role(user_id, parsed)
            await self._events.add(
                auth_event(
                    "user.role_granted",
                    entity_type="user",
                    entity_id=user_id,
                    actor=principal,
                    data={"role": parsed.value},
                )
            )
        return await self._get(user_id)

    async def revoke_role(self, *, principal: Principal, user_id: UUID, role: str) -> None:
        _require_admin(principal)
        parsed = _parse_role(role)
        await self._get(user_id)
        if parsed is PlatformRole.ADMIN and await self._users.lock_admins() <= 1:
            user = await self._get(user_id)
            if PlatformRole.ADMIN in user.roles:
                raise LastAdmin()
        if await self._users.remove_role(user_id, parsed):
            await self._events.add(
                auth_event(
                    "user.role_revoked",
                    entity_type="user",
                    entity_id=user_id,
                    actor=principal,
                    data={"role": parsed.value},
                )
            )

    async def ensure_admin(self, *, email: str, password: str, display_name: str) -> User:
        """Bootstrap: make sure this account exists and is an admin; safe on every start."""
        email = normalise_email(email)
        credentials = await self._users.credentials(email)
        user = credentials.user if credentials else None
        if user is None:
            user = await self._create(email=email, password=password, display_name=display_name)
        if PlatformRole.ADMIN not in user.roles:
            await self._users.add_role(user.id, PlatformRole.ADMIN)
            await self._events.add(
                auth_event(
                    "user.role_granted",
                    entity_type="user",
                    entity_id=user.id,
                    actor="bootstrap",
                    data={"role": PlatformRole.ADMIN.value},
                )
            )
        return await self._get(user.id)
