"""Who may do what to a merchant's campaigns and coupons, from the token's memberships."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from core.auth import Principal
from core.errors import Forbidden

REDEEM_SCOPE = "coupons:redeem"
READ_SCOPE = "coupons:read"
WRITE_SCOPE = "coupons:write"


class MerchantRole(StrEnum):
    OWNER = "owner"
    STAFF = "staff"
    PARTNER = "partner"


OWNER_ONLY = frozenset({MerchantRole.OWNER})
OWNER_OR_STAFF = frozenset({MerchantRole.OWNER, MerchantRole.STAFF})


def role_of(principal: Principal | None, merchant_id: UUID) -> MerchantRole | None:
    if principal is None:
        return None
    role = principal.merchant_role(merchant_id)
    try:
        return MerchantRole(role) if role else None
    except ValueError:
        return None


def has_role(
    principal: Principal | None, merchant_id: UUID, roles: frozenset[MerchantRole]
) -> bool:
    return role_of(principal, merchant_id) in roles


def may_redeem(principal: Principal, merchant_id: UUID) -> bool:
    role = role_of(principal, merchant_id)
    if role in OWNER_OR_STAFF:
        return True
    return role is MerchantRole.PARTNER and principal.has_scope(REDEEM_SCOPE)


def may_validate(principal: Principal, merchant_id: UUID) -> bool:
    role = role_of(principal, merchant_id)
    if role in OWNER_OR_STAFF:
        return True
    return role is MerchantRole.PARTNER and (
        principal.has_scope(REDEEM_SCOPE) or principal.has_scope(READ_SCOPE)
    )


def may_read_coupon(principal: Principal, *, merchant_id: UUID, owner_user_id: UUID | None) -> bool:
    """Who reads a coupon and its history: its owner, its merchant's people (owner and
    staff: the "merchant members" of API.md), admins. A partner client validates and
    redeems coupons it is shown, but does not look them up or read their history."""
    return (
        principal.is_user(owner_user_id)
        or has_role(principal, merchant_id, OWNER_OR_STAFF)
        or principal.is_admin
    )


def customer_id(principal: Principal) -> UUID:
    """The calling customer; a partner client acting on its own holds no coupons."""
    user_id = principal.user_id
    if user_id is None:
        raise Forbidden("A client token holds no coupons; sign in as a customer")
    return user_id
