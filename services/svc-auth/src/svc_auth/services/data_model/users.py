from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class PlatformRole(StrEnum):
    CUSTOMER = "customer"
    ADMIN = "admin"


GRANTABLE_ROLES = frozenset({PlatformRole.ADMIN})


class MerchantRole(StrEnum):
    OWNER = "owner"
    STAFF = "staff"
    PARTNER = "partner"


@dataclass(frozen=True, slots=True)
class Membership:
    merchant_id: UUID
    role: MerchantRole


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    display_name: str
    roles: frozenset[PlatformRole]
    memberships: tuple[Membership, ...]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a login needs: never leaves the service layer."""

    user: User
    password_hash: str


@dataclass(frozen=True, slots=True)
class Member:
    user_id: UUID
    email: str
    role: MerchantRole


def normalise_email(email: str) -> str:
    return email.strip().lower()
