"""FastAPI dependency aliases for the controllers: the services, ready to call."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core.auth import Principal
from core.auth.dependencies import RequireScope
from core.web.routes import SessionDep
from svc_merchants.components import MerchantsComponents
from svc_merchants.services.access import WRITE_SCOPE
from svc_merchants.services.merchants import MerchantService
from svc_merchants.services.outlets import OutletService


async def components(request: Request) -> MerchantsComponents:
    parts: MerchantsComponents = request.app.state.merchants
    return parts


ComponentsDep = Annotated[MerchantsComponents, Depends(components)]


async def _merchants(parts: ComponentsDep, session: SessionDep) -> MerchantService:
    return parts.merchants(session)


async def _outlets(parts: ComponentsDep, session: SessionDep) -> OutletService:
    return parts.outlets(session)


MerchantsDep = Annotated[MerchantService, Depends(_merchants)]
OutletsDep = Annotated[OutletService, Depends(_outlets)]

# Writes need a token with `merchants:write` (services.access checks it too); declared on the
# route so the OpenAPI document lists the scope in the operation's security requirement.
WritePrincipal = Annotated[Principal, Depends(RequireScope(WRITE_SCOPE))]
