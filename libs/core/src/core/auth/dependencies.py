"""FastAPI dependencies: who is calling, and may they."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends, Request

from core.auth.principal import Principal
from core.errors import Forbidden, Unauthenticated
from core.runtime import ServiceRuntime

_UNSET = object()


def authenticate(request: Request) -> Principal | None:
    """The caller named by the bearer token, None without one; 401 for a bad one."""
    cached = getattr(request.state, "principal", _UNSET)
    if cached is not _UNSET:
        return cast(Principal | None, cached)
    header = request.headers.get("authorization")
    principal = None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("Use an Authorization: Bearer <access token> header")
        runtime: ServiceRuntime = request.app.state.runtime
        principal = runtime.verifier.verify(token.strip())
    request.state.principal = principal
    return principal


async def current_principal(request: Request) -> Principal | None:
    return authenticate(request)


async def require_principal(request: Request) -> Principal:
    principal = authenticate(request)
    if principal is None:
        raise Unauthenticated()
    return principal


async def require_admin(principal: Annotated[Principal, Depends(require_principal)]) -> Principal:
    if not principal.is_admin:
        raise Forbidden("Only platform admins may do this")
    return principal


# Dependencies are `async def` although they do no I/O: FastAPI runs a plain `def` in the
# thread pool, a hop per dependency per request.
OptionalPrincipal = Annotated[Principal | None, Depends(current_principal)]
CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
AdminPrincipal = Annotated[Principal, Depends(require_admin)]


class RequireScope:
    """`Depends(RequireScope("coupons:redeem"))`: the token must carry the scope."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    async def __call__(
        self, principal: Annotated[Principal, Depends(require_principal)]
    ) -> Principal:
        if not principal.has_scope(self.scope):
            raise Forbidden(f"The access token lacks the scope {self.scope!r}")
        return principal


class RequireAnyScope:
    """`Depends(RequireAnyScope("coupons:read", "coupons:redeem"))`: the token must carry
    one of the scopes; the OpenAPI document lists one security requirement per scope."""

    def __init__(self, *scopes: str) -> None:
        if not scopes:
            raise ValueError("RequireAnyScope needs at least one scope")
        self.scopes = tuple(sorted(set(scopes)))

    async def __call__(
        self, principal: Annotated[Principal, Depends(require_principal)]
    ) -> Principal:
        if not any(principal.has_scope(scope) for scope in self.scopes):
            raise Forbidden(
                "The access token lacks a scope of " + ", ".join(repr(s) for s in self.scopes)
            )
        return principal
