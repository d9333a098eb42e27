"""Who may see and change a merchant: one policy for merchants and outlets.

- Anyone sees a verified merchant. The applicant, the owner and admins see it in every
  status; anyone else is told it does not exist (404).
- Ownership is the token's membership (granted by svc-auth when an admin verifies). Before
  verification nobody is owner yet, so the applicant may still edit their pending application.
- Writes need a token with the `merchants:write` scope; admin actions need admin power.
"""

from __future__ import annotations

from core.auth import Principal
from core.errors import Forbidden
from svc_merchants.services.data_model.merchants import Merchant, MerchantStatus
from svc_merchants.services.errors import MerchantNotFound

WRITE_SCOPE = "merchants:write"
OWNER_ROLE = "owner"


def is_owner(principal: Principal | None, merchant: Merchant) -> bool:
    return principal is not None and principal.merchant_role(merchant.id) == OWNER_ROLE


def is_applicant(principal: Principal | None, merchant: Merchant) -> bool:
    return principal is not None and principal.is_user(merchant.owner_user_id)


def require_visible(principal: Principal | None, merchant: Merchant | None) -> Merchant:
    """The merchant when the caller may know it exists; 404 otherwise."""
    if merchant is None:
        raise MerchantNotFound()
    if (
        merchant.status is MerchantStatus.VERIFIED
        or (principal is not None and principal.is_admin)
        or is_owner(principal, merchant)
        or is_applicant(principal, merchant)
    ):
        return merchant
    raise MerchantNotFound()


def require_write_scope(principal: Principal) -> None:
    if not principal.has_scope(WRITE_SCOPE):
        raise Forbidden(f"The access token lacks the scope {WRITE_SCOPE!r}")


def require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Only platform admins may do this")


def require_profile_editor(principal: Principal, merchant: Merchant) -> None:
    if principal.is_admin or is_owner(principal, merchant):
        return
    if is_applicant(principal, merchant) and merchant.status is MerchantStatus.PENDING:
        return
    raise Forbidden("Only the merchant's owner or an admin may change it")


def require_owner(principal: Principal, merchant: Merchant) -> None:
    if not is_owner(principal, merchant):
        raise Forbidden("Only the merchant's owner may manage its outlets")
