"""Typed async client of the platform's REST APIs: `PlatformClient(http).coupons...`.

The modules auth, merchants and coupons are generated from contracts/openapi (make
contracts): a TypedDict per schema, an async method per operation.
"""

from __future__ import annotations

from typing import Self

import httpx

from platform_client.auth import AuthApi, Token
from platform_client.coupons import CouponsApi
from platform_client.merchants import MerchantsApi
from platform_client.transport import ProblemError

__all__ = ["AuthApi", "CouponsApi", "MerchantsApi", "PlatformClient", "ProblemError"]


class PlatformClient:
    """Every service's API on one base URL, as one caller (a token, or none)."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token
        self.auth = AuthApi(http, token)
        self.merchants = MerchantsApi(http, token)
        self.coupons = CouponsApi(http, token)

    def as_caller(self, token: str | None) -> Self:
        return type(self)(self.http, token)

    async def sign_in(self, username: str, password: str, client_id: str) -> Self:
        """The password grant with a portal's public client id; the client as that user."""
        token: Token = await self.auth.issue_token(
            {
                "grant_type": "password",
                "username": username,
                "password": password,
                "client_id": client_id,
            }
        )
        return self.as_caller(token["access_token"])
