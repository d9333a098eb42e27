"""FastAPI dependency aliases for the controllers: the services, ready to call."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core.web.routes import SessionDep
from svc_auth.components import AuthComponents
from svc_auth.services.accounts import AccountService
from svc_auth.services.clients import ClientService
from svc_auth.services.members import MembershipService
from svc_auth.services.oauth import TokenService


async def components(request: Request) -> AuthComponents:
    parts: AuthComponents = request.app.state.auth
    return parts


ComponentsDep = Annotated[AuthComponents, Depends(components)]


async def _accounts(parts: ComponentsDep, session: SessionDep) -> AccountService:
    return parts.accounts(session)


async def _memberships(parts: ComponentsDep, session: SessionDep) -> MembershipService:
    return parts.memberships(session)


async def _clients(parts: ComponentsDep, session: SessionDep) -> ClientService:
    return parts.clients(session)


async def _tokens(parts: ComponentsDep, session: SessionDep) -> TokenService:
    return parts.tokens(session)


AccountsDep = Annotated[AccountService, Depends(_accounts)]
MembershipsDep = Annotated[MembershipService, Depends(_memberships)]
ClientsDep = Annotated[ClientService, Depends(_clients)]
TokensDep = Annotated[TokenService, Depends(_tokens)]
