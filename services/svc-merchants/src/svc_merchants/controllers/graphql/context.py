from __future__ import annotations

from fastapi import Request
from strawberry.fastapi import BaseContext

from core.auth import Principal
from core.errors import Unauthenticated
from core.web.graphql import principal_of
from core.web.routes import get_session
from svc_merchants.components import MerchantsComponents
from svc_merchants.services.merchants import MerchantService
from svc_merchants.services.outlets import OutletService


class MerchantsContext(BaseContext):
    """Per request: the caller and the services, over the request's unit of work."""

    def __init__(self, request: Request) -> None:
        super().__init__()
        parts: MerchantsComponents = request.app.state.merchants
        session = get_session(request)
        self._request = request
        self.merchants: MerchantService = parts.merchants(session)
        self.outlets: OutletService = parts.outlets(session)

    def principal(self) -> Principal | None:
        """The caller; None when anonymous (most queries are open to anyone)."""
        principal: Principal | None = principal_of(self._request)
        return principal

    def signed_in(self) -> Principal:
        principal = self.principal()
        if principal is None:
            raise Unauthenticated()
        return principal


async def get_context(request: Request) -> MerchantsContext:
    return MerchantsContext(request)
