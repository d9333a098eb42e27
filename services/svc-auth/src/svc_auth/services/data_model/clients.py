from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class Scope(StrEnum):
    COUPONS_READ = "coupons:read"
    COUPONS_WRITE = "coupons:write"
    COUPONS_REDEEM = "coupons:redeem"
    MERCHANTS_WRITE = "merchants:write"
    ADMIN = "admin"


# What a partner client (a merchant's own system) may ever be given.
PARTNER_SCOPES = frozenset({Scope.COUPONS_READ, Scope.COUPONS_REDEEM, Scope.COUPONS_WRITE})


class ClientKind(StrEnum):
    PUBLIC = "public"  # the portals: no secret, user grants only
    CONFIDENTIAL = "confidential"  # partner systems: a secret, client_credentials


class GrantType(StrEnum):
    PASSWORD = "password"
    REFRESH_TOKEN = "refresh_token"
    CLIENT_CREDENTIALS = "client_credentials"


@dataclass(frozen=True, slots=True)
class OAuthClient:
    client_id: str
    name: str
    kind: ClientKind
    scopes: frozenset[str]
    grant_types: frozenset[str]
    merchant_id: UUID | None
    secret_hash: str | None


@dataclass(frozen=True, slots=True)
class IssuedClient:
    """A new partner client; the only time its secret is shown."""

    client_id: str
    client_secret: str
    name: str
    merchant_id: UUID
    scopes: frozenset[str]
    created_at: datetime
