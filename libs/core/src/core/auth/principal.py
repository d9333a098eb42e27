from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

ADMIN_SCOPE = "admin"


def is_same_party(a: UUID | None, b: UUID | None) -> bool:
    """Whether two ids name the same party. An unknown id names nobody: a client token has
    no user, a pending gift no recipient yet, and `None == None` must never pass an
    ownership check. Every comparison of who owns or may see something goes through here."""
    return a is not None and b is not None and a == b


@dataclass(frozen=True, slots=True)
class Membership:
    merchant_id: UUID
    role: str  # owner, staff or partner


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller as its access token describes it: a user, or a partner client."""

    subject: str
    client_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    memberships: tuple[Membership, ...] = ()
    token_id: str | None = None

    @property
    def user_id(self) -> UUID | None:
        """The user's id; None for a client acting on its own (client_credentials)."""
        try:
            return UUID(self.subject)
        except ValueError:
            return None

    def is_user(self, *user_ids: UUID | None) -> bool:
        """Whether the caller is the user of one of these ids (their owner, sender,
        recipient...); never for a client token, never for an id not known yet."""
        return any(is_same_party(self.user_id, user_id) for user_id in user_ids)

    @property
    def is_admin(self) -> bool:
        # Admin power needs both the role and a token from a client allowed to carry it.
        return "admin" in self.roles and ADMIN_SCOPE in self.scopes

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes

    def merchant_role(self, merchant_id: UUID) -> str | None:
        for membership in self.memberships:
            if membership.merchant_id == merchant_id:
                return membership.role
        return None

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        return cls(
            subject=str(claims["sub"]),
            client_id=str(claims.get("client_id", "")),
            roles=frozenset(claims.get("roles") or ()),
            scopes=frozenset(str(claims.get("scope") or "").split()),
            memberships=tuple(
                Membership(merchant_id=UUID(m["merchant_id"]), role=str(m["role"]))
                for m in claims.get("memberships") or ()
            ),
            token_id=claims.get("jti"),
        )
