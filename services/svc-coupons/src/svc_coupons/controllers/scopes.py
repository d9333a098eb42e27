"""The scope each operation needs of the token (core.auth.scopes says what each allows).

REST declares it on the route (the aliases below), so the OpenAPI document lists it in the
operation's security requirement; GraphQL's resolvers ask CouponsContext.principal for the
same one, so a token refused over one is refused over the other. Within what the scope
allows, the services decide by role and ownership (services.access): an owner's token with
`coupons:redeem` still redeems only the coupons of its merchant.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from core.auth import Principal
from core.auth.dependencies import RequireAnyScope, RequireScope
from core.errors import Forbidden
from svc_coupons.services.access import READ_SCOPE, REDEEM_SCOPE, WRITE_SCOPE

# Each is a choice: the token carries any one of its scopes.
READ = (READ_SCOPE,)  # the wallet, lookups, histories, stats and lists
WRITE = (WRITE_SCOPE,)  # campaigns, claims, issues, codes, voids, gifts, swaps, shares
REDEEM = (REDEEM_SCOPE,)  # redeeming at an outlet, and reversing a redemption
VALIDATE = (READ_SCOPE, REDEEM_SCOPE)  # a partner that only reads may check a code too

ReadPrincipal = Annotated[Principal, Depends(RequireScope(READ_SCOPE))]
WritePrincipal = Annotated[Principal, Depends(RequireScope(WRITE_SCOPE))]
RedeemPrincipal = Annotated[Principal, Depends(RequireScope(REDEEM_SCOPE))]
ValidatePrincipal = Annotated[Principal, Depends(RequireAnyScope(*VALIDATE))]


def require_any(principal: Principal, scopes: tuple[str, ...]) -> Principal:
    """The caller, when its token carries one of `scopes`; 403 as the REST routes answer."""
    if any(principal.has_scope(scope) for scope in scopes):
        return principal
    if len(scopes) == 1:
        raise Forbidden(f"The access token lacks the scope {scopes[0]!r}")
    raise Forbidden("The access token lacks a scope of " + ", ".join(repr(s) for s in scopes))
