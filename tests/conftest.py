"""The whole platform in one process, routed like API Gateway routes it.

Every service shares one in-process bus (EventBridge's stand-in) and the test's database
connection; svc-coupons reaches svc-merchants through the gateway, as it does over HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from core.config import PlatformSettings
from core.database.engine import ConnectionBoundDatabase
from core.events.sinks import InProcessBus
from devstack.gateway import LocalGateway
from devstack.tokens import TestTokens
from svc_auth.app import create_app as create_auth_app
from svc_auth.config import AuthSettings
from svc_coupons.app import create_app as create_coupons_app
from svc_coupons.config import CouponsSettings
from svc_merchants.app import create_app as create_merchants_app

FAST_HASHING = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}
BASE_URL = "http://testserver"


@pytest.fixture
async def gateway(
    connection: AsyncConnection, platform_settings: PlatformSettings, tokens: TestTokens, aws: Any
) -> AsyncIterator[httpx.AsyncClient]:
    bus = InProcessBus()
    database = ConnectionBoundDatabase(platform_settings, connection)
    apps: dict[str, Any] = {}

    async def through_the_gateway(scope: Any, receive: Any, send: Any) -> None:
        await gateway(scope, receive, send)

    apps["auth"] = create_auth_app(
        AuthSettings(**FAST_HASHING),
        platform_settings,
        database=database,
        bus=bus,
        keys=tokens.keys,
    )
    apps["merchants"] = create_merchants_app(platform=platform_settings, database=database, bus=bus)
    apps["coupons"] = create_coupons_app(
        CouponsSettings(merchants_api_url=BASE_URL),
        platform_settings,
        database=database,
        bus=bus,
        merchants_transport=httpx.ASGITransport(app=through_the_gateway),
    )
    gateway = LocalGateway(apps)
    transport = httpx.ASGITransport(app=gateway)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http
