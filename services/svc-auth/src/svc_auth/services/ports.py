"""What the services need from storage; repositories implement these, tests may fake them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from core.events import DomainEvent
from core.pagination import Page, PageRequest
from svc_auth.services.data_model.clients import OAuthClient
from svc_auth.services.data_model.tokens import RefreshTokenRecord
from svc_auth.services.data_model.users import (
    Credentials,
    Member,
    MerchantRole,
    PlatformRole,
    User,
)


class UserStore(Protocol):
    async def create(self, *, email: str, password_hash: str, display_name: str) -> User | None:
        """The new user, or None when the email is taken."""
        ...

    async def get(self, user_id: UUID) -> User | None: ...

    async def credentials(self, email: str) -> Credentials | None: ...

    async def list(self, *, email: str | None, page: PageRequest) -> Page[User]: ...

    async def add_role(self, user_id: UUID, role: PlatformRole) -> None: ...

    async def remove_role(self, user_id: UUID, role: PlatformRole) -> bool: ...

    async def lock_admins(self) -> int:
        """Lock the admin role rows for this transaction and count them."""
        ...


class MembershipStore(Protocol):
    async def role_of(self, *, user_id: UUID, merchant_id: UUID) -> MerchantRole | None: ...

    async def members(self, merchant_id: UUID, *, page: PageRequest) -> Page[Member]:
        """In the order they joined."""
        ...

    async def add(self, *, user_id: UUID, merchant_id: UUID, role: MerchantRole) -> bool:
        """False when the user already has a membership of this merchant."""
        ...

    async def make_owner(self, *, user_id: UUID, merchant_id: UUID) -> None: ...

    async def remove(self, *, user_id: UUID, merchant_id: UUID) -> None: ...


class ClientStore(Protocol):
    async def get(self, client_id: str) -> OAuthClient | None: ...

    async def create_partner(
        self,
        *,
        client_id: str,
        name: str,
        secret_hash: str,
        scopes: frozenset[str],
        merchant_id: UUID,
        created_by: UUID | None,
    ) -> datetime: ...


class RefreshTokenStore(Protocol):
    async def add(
        self,
        *,
        token_hash: str,
        family_id: UUID,
        user_id: UUID,
        client_id: str,
        scope: str,
        expires_at: datetime,
    ) -> None: ...

    async def find(self, token_hash: str) -> RefreshTokenRecord | None: ...

    async def mark_rotated(self, token_id: UUID) -> bool:
        """Atomically retire a live token; False when it was already rotated or revoked."""
        ...

    async def revoke_family(self, family_id: UUID, *, event: DomainEvent) -> bool:
        """Revoke the family's live tokens and write `event` with them; False (and no
        event) when none was live."""
        ...


class CountersUnavailable(Exception):
    """The store of the limits' counters did not answer: each limit decides what that
    means for its operation."""


class Counter(Protocol):
    """Counts per key in fixed windows of the counter's own length."""

    async def add(self, key: str, amount: int = 1) -> tuple[int, int]:
        """One atomic update: the count after adding, and the seconds until the window ends.
        A negative amount takes back only from the current window's count."""
        ...

    async def reset(self, key: str) -> None: ...


@dataclass(frozen=True)
class WindowCounts:
    """A key's count in the current fixed window and in the one before it, and how far
    into the current window the count was taken."""

    current: int
    previous: int
    elapsed: float
    window_seconds: int


class RateCounter(Protocol):
    """Counts one request per key for a sliding-window limit."""

    async def count_one(self, key: str) -> WindowCounts:
        """Add one to the key's current window; the counts of it and the window before."""
        ...


class Marks(Protocol):
    """Keys remembered for a while."""

    async def put(self, key: str) -> None: ...

    async def has(self, key: str) -> bool: ...


class EventLog(Protocol):
    async def add(self, event: DomainEvent) -> None: ...


class TokenSigner(Protocol):
    def sign(self, claims: dict[str, object]) -> str: ...
