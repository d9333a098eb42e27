"""Across services: an admin verifies a merchant in svc-merchants, svc-auth hears of it, and
the applicant's next token names them the merchant's owner.

Both apps share one in-process bus (EventBridge's stand-in) and one database connection,
behind the local gateway that routes like API Gateway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from core.config import PlatformSettings
from core.database.engine import ConnectionBoundDatabase
from core.events.sinks import InProcessBus
from devstack.api import AuthApi, MerchantsApi, bearer
from devstack.gateway import LocalGateway
from devstack.tokens import TestTokens
from svc_auth.app import create_app as create_auth_app
from svc_auth.config import AuthSettings
from svc_merchants.app import create_app as create_merchants_app

FAST_HASHING = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}


@pytest.fixture
async def gateway(
    connection: AsyncConnection, platform_settings: PlatformSettings, tokens: TestTokens, aws: Any
) -> AsyncIterator[httpx.AsyncClient]:
    bus = InProcessBus()
    database = ConnectionBoundDatabase(platform_settings, connection)
    apps = {
        "auth": create_auth_app(
            AuthSettings(**FAST_HASHING),
            platform_settings,
            database=database,
            bus=bus,
            keys=tokens.keys,
        ),
        "merchants": create_merchants_app(platform=platform_settings, database=database, bus=bus),
    }
    transport = httpx.ASGITransport(app=LocalGateway(apps))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_verification_makes_the_applicant_the_owner(
    gateway: httpx.AsyncClient, tokens: TestTokens
) -> None:
    accounts = AuthApi(gateway)
    merchants = MerchantsApi(gateway)
    user = await accounts.register("baker@example.com")
    before = await accounts.login("baker@example.com", client_id="merchant-portal")
    merchant = await merchants.apply(before["access_token"], name="Baker's Dozen")
    assert merchant["owner_user_id"] == user["id"]

    await merchants.verify(tokens.admin(), merchant["id"])

    after = await accounts.login("baker@example.com", client_id="merchant-portal")
    claims = await _claims(gateway, after["access_token"])
    assert claims["sub"] == user["id"]
    assert {"merchant_id": merchant["id"], "role": "owner"} in claims["memberships"]
    me = await gateway.get("/api/v1/auth/me", headers=bearer(after))
    assert me.status_code == 200
    assert me.json()["memberships"] == [{"merchant_id": merchant["id"], "role": "owner"}]

    # The new token is the owner's in svc-merchants too: outlets may now be added.
    outlet = await merchants.create_outlet(after["access_token"], merchant["id"])
    assert outlet["merchant_id"] == merchant["id"]
    stale = await gateway.post(
        f"/api/v1/merchants/{merchant['id']}/outlets",
        json={"name": "Old token", "address": "Nowhere 1"},
        headers=bearer(before),
    )
    assert stale.status_code == 403


async def _claims(gateway: httpx.AsyncClient, access_token: str) -> dict[str, Any]:
    """The token's claims, checked against svc-auth's published keys like any service does."""
    jwks = (await gateway.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(access_token)
    [key] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    claims: dict[str, Any] = jwt.decode(
        access_token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience="coupon-platform",
    )
    return claims
