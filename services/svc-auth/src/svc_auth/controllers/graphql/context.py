from __future__ import annotations

from fastapi import Request
from strawberry.fastapi import BaseContext

from core.auth import Principal
from core.errors import Unauthenticated
from core.web.addresses import client_address
from core.web.graphql import principal_of
from core.web.routes import get_session
from svc_auth.components import AuthComponents
from svc_auth.services.accounts import AccountService
from svc_auth.services.clients import ClientService
from svc_auth.services.members import MembershipService


class AuthContext(BaseContext):
    """Per request: the caller and the services, over the request's unit of work."""

    def __init__(self, request: Request) -> None:
        super().__init__()
        parts: AuthComponents = request.app.state.auth
        session = get_session(request)
        self._request = request
        self.address = client_address(request)
        self.accounts: AccountService = parts.accounts(session)
        self.memberships: MembershipService = parts.memberships(session)
        self.clients: ClientService = parts.clients(session)

    def principal(self) -> Principal:
        principal: Principal | None = principal_of(self._request)
        if principal is None:
            raise Unauthenticated()
        return principal


async def get_context(request: Request) -> AuthContext:
    return AuthContext(request)
