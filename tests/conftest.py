"""The whole platform in one process, routed like API Gateway routes it.

Every service shares one in-process bus (EventBridge's stand-in) and the test's database
connection; svc-coupons reaches svc-merchants through the gateway, as it does over HTTP.

Also the migration tests' service (`shop_service`).
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from core.config import PlatformSettings
from core.database.engine import ConnectionBoundDatabase
from core.events.sinks import InProcessBus
from devstack.stack.gateway import LocalGateway
from devstack.testing.api import AuthApi, MerchantsApi, bearer
from devstack.testing.api import expect as ok
from devstack.testing.tokens import TestTokens
from svc_auth.app import create_app as create_auth_app
from svc_auth.config import AuthSettings
from svc_coupons.app import create_app as create_coupons_app
from svc_coupons.config import CouponsSettings
from svc_merchants.app import create_app as create_merchants_app

FAST_HASHING = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}
BASE_URL = "http://testserver"


@pytest.fixture
def platform_apps(
    connection: AsyncConnection, platform_settings: PlatformSettings, tokens: TestTokens, aws: Any
) -> dict[str, Any]:
    """Every service's app, by service name, as the gateway routes to them."""
    bus = InProcessBus()
    database = ConnectionBoundDatabase(platform_settings, connection)
    apps: dict[str, Any] = {}

    async def through_the_gateway(scope: Any, receive: Any, send: Any) -> None:
        await LocalGateway(apps)(scope, receive, send)

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
    return apps


@pytest.fixture
async def gateway(platform_apps: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=LocalGateway(platform_apps))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


class Scene:
    """A verified merchant with an outlet, a staff member and an active campaign."""

    def __init__(self, gateway: httpx.AsyncClient, tokens: TestTokens) -> None:
        self.http = gateway
        self.tokens = tokens
        self.accounts = AuthApi(gateway)
        self.merchants = MerchantsApi(gateway)

    async def set_up(self) -> None:
        http, accounts = self.http, self.accounts
        await accounts.register("owner@bakery.example")
        applicant = await accounts.login("owner@bakery.example", client_id="merchant-portal")
        self.merchant = await self.merchants.apply(applicant["access_token"], name="Bakery")
        await self.merchants.verify(self.tokens.admin(), self.merchant["id"])
        # The owner's next token carries the membership svc-auth granted on verification.
        self.owner = bearer(
            await accounts.login("owner@bakery.example", client_id="merchant-portal")
        )
        mid = self.merchant["id"]
        self.outlet = await self.merchants.create_outlet(self.owner["Authorization"][7:], mid)

        await accounts.register("staff@bakery.example")
        ok(
            await http.post(
                f"/api/v1/auth/merchants/{mid}/members",
                json={"email": "staff@bakery.example", "role": "staff"},
                headers=self.owner,
            ),
            201,
        )
        self.staff = bearer(
            await accounts.login("staff@bakery.example", client_id="merchant-portal")
        )

        now = datetime.now(UTC)
        campaign = ok(
            await http.post(
                "/api/v1/campaigns",
                headers=self.owner,
                json={
                    "merchant_id": mid,
                    "title": "Twenty off",
                    "discount_type": "percentage",
                    "discount_value": 20,
                    "total_quantity": 10,
                    "per_customer_limit": 1,
                    "starts_at": (now - timedelta(minutes=1)).isoformat(),
                    "ends_at": (now + timedelta(days=30)).isoformat(),
                    "outlet_ids": [self.outlet["id"]],
                },
            ),
            201,
        )
        assert campaign["status"] == "draft"
        self.campaign = ok(
            await http.post(f"/api/v1/campaigns/{campaign['id']}/publish", headers=self.owner)
        )
        assert self.campaign["status"] == "active"

    async def customer(self, email: str) -> dict[str, str]:
        await self.accounts.register(email)
        return bearer(await self.accounts.login(email))

    async def claim(self, customer: dict[str, str]) -> dict[str, Any]:
        coupon: dict[str, Any] = ok(
            await self.http.post(
                f"/api/v1/campaigns/{self.campaign['id']}/claim", headers=customer
            ),
            201,
        )
        return coupon


@pytest.fixture
async def scene(gateway: httpx.AsyncClient, tokens: TestTokens) -> Scene:
    built = Scene(gateway, tokens)
    await built.set_up()
    return built


MIGRATION_FIXTURE = Path(__file__).parent / "migration_fixture"


class ShopService:
    """`shop_service(*names, written={file name: text})`: a copy of tests/migration_fixture
    (the `shop` schema at 0001) with the migrations of its next/ named, and those written."""

    # The fixture's expand/contract change after 0001, oldest first.
    expand_contract = sorted(path.name for path in (MIGRATION_FIXTURE / "next").glob("*.py"))

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def __call__(self, *names: str, written: Mapping[str, str] | None = None) -> Path:
        service = self._directory
        shutil.copytree(MIGRATION_FIXTURE, service, dirs_exist_ok=True)
        versions = service / "alembic" / "versions"
        for name in names:
            shutil.copy2(service / "next" / name, versions / name)
        for name, text in (written or {}).items():
            (versions / name).write_text(text)
        return service


@pytest.fixture
def shop_service(tmp_path: Path) -> ShopService:
    return ShopService(tmp_path / "shop")
