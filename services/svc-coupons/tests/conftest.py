"""svc-coupons's fixtures: the app over the rolled-back test connection, a fake svc-merchants
answering over an httpx transport, and a `world` that builds merchants, people and campaigns.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import utcnow
from core.config import PlatformSettings
from core.database.engine import ConnectionBoundDatabase
from devstack.testing.tokens import TestTokens
from svc_coupons.app import create_app
from svc_coupons.config import CouponsSettings

Headers = dict[str, str]

_MERCHANT = re.compile(r"^/api/v1/merchants/([0-9a-f-]{36})$")
_OUTLETS = re.compile(r"^/api/v1/merchants/([0-9a-f-]{36})/outlets$")


@dataclass
class FakeMerchants:
    """svc-merchants' two public reads, from memory. `hidden` merchants answer 404, as
    svc-merchants does to callers who may not see an unverified merchant."""

    merchants: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    outlets: dict[UUID, list[dict[str, Any]]] = field(default_factory=dict)
    hidden: set[UUID] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)
    down: bool = False
    # Stands in for every answer when set: a malformed 200, say.
    answer: httpx.Response | None = None
    # A client paging in circles would never stop on its own: fail it instead.
    max_calls: int = 500

    def add(self, *, status: str = "verified", owner_user_id: UUID | None = None) -> UUID:
        merchant_id = uuid4()
        self.merchants[merchant_id] = {
            "id": str(merchant_id),
            "name": "Corner Bakery",
            "status": status,
            "owner_user_id": str(owner_user_id or uuid4()),
            "country": "DE",
            "currency": "EUR",
            "timezone": "Europe/Berlin",
            "created_at": utcnow().isoformat(),
        }
        self.outlets[merchant_id] = []
        return merchant_id

    def set_status(self, merchant_id: UUID, status: str) -> None:
        self.merchants[merchant_id]["status"] = status

    def add_outlet(self, merchant_id: UUID) -> UUID:
        outlet_id = uuid4()
        self.outlets[merchant_id].append(
            {
                "id": str(outlet_id),
                "merchant_id": str(merchant_id),
                "name": f"Outlet {len(self.outlets[merchant_id]) + 1}",
                "address": "Hauptstraße 1, Berlin",
            }
        )
        return outlet_id

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        if len(self.calls) > self.max_calls:
            raise AssertionError(f"svc-merchants asked {len(self.calls)} times: a loop?")
        self.authorizations.append(request.headers.get("authorization"))
        if self.down:
            return httpx.Response(502, json={"detail": "bad gateway"})
        if self.answer is not None:
            return self.answer
        if match := _MERCHANT.match(request.url.path):
            merchant_id = UUID(match.group(1))
            if merchant_id not in self.merchants or merchant_id in self.hidden:
                return httpx.Response(404, json={"code": "not_found"})
            return httpx.Response(200, json=self.merchants[merchant_id])
        if match := _OUTLETS.match(request.url.path):
            merchant_id = UUID(match.group(1))
            if merchant_id not in self.merchants or merchant_id in self.hidden:
                return httpx.Response(404, json={"code": "not_found"})
            limit = int(request.url.params.get("limit", "20"))
            start = int(request.url.params.get("cursor") or 0)
            items = self.outlets[merchant_id][start : start + limit]
            more = start + limit < len(self.outlets[merchant_id])
            return httpx.Response(
                200, json={"items": items, "next_cursor": str(start + limit) if more else None}
            )
        return httpx.Response(404, json={"code": "not_found"})


@dataclass
class Shop:
    """A merchant as svc-coupons sees it: its people's tokens and its outlets."""

    merchant_id: UUID
    owner_id: UUID
    owner: Headers
    staff_id: UUID
    staff: Headers
    outlet_id: UUID
    partner: Headers  # a partner client with coupons:redeem


@dataclass
class World:
    http: httpx.AsyncClient
    tokens: TestTokens
    merchants: FakeMerchants

    def headers(self, **claims: Any) -> Headers:
        return self.tokens.bearer(self.tokens.token(**claims))

    def customer(self) -> tuple[UUID, Headers]:
        user_id = uuid4()
        return user_id, self.headers(subject=user_id)

    def admin(self) -> Headers:
        return self.tokens.bearer(self.tokens.admin())

    def shop(self, *, status: str = "verified") -> Shop:
        owner_id, staff_id = uuid4(), uuid4()
        merchant_id = self.merchants.add(status=status, owner_user_id=owner_id)
        outlet_id = self.merchants.add_outlet(merchant_id)
        return Shop(
            merchant_id=merchant_id,
            owner_id=owner_id,
            owner=self.headers(subject=owner_id, memberships=((merchant_id, "owner"),)),
            staff_id=staff_id,
            staff=self.headers(subject=staff_id, memberships=((merchant_id, "staff"),)),
            outlet_id=outlet_id,
            partner=self.headers(
                subject=f"partner-{merchant_id.hex[:8]}",
                client_id=f"partner-{merchant_id.hex[:8]}",
                roles=(),
                scope="coupons:read coupons:redeem",
                memberships=((merchant_id, "partner"),),
            ),
        )

    @staticmethod
    def campaign_body(shop: Shop, **overrides: Any) -> dict[str, Any]:
        now = utcnow()
        body: dict[str, Any] = {
            "merchant_id": str(shop.merchant_id),
            "title": "Ten percent off",
            "discount_type": "percentage",
            "discount_value": 10,
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=30)).isoformat(),
        }
        return body | overrides

    async def campaign(
        self, shop: Shop, *, publish: bool = True, **overrides: Any
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/api/v1/campaigns", json=self.campaign_body(shop, **overrides), headers=shop.owner
        )
        assert response.status_code == 201, response.text
        campaign: dict[str, Any] = response.json()
        if publish:
            response = await self.http.post(
                f"/api/v1/campaigns/{campaign['id']}/publish", headers=shop.owner
            )
            assert response.status_code == 200, response.text
            campaign = response.json()
        return campaign

    async def claim(self, campaign: dict[str, Any], headers: Headers) -> dict[str, Any]:
        response = await self.http.post(
            f"/api/v1/campaigns/{campaign['id']}/claim", headers=headers
        )
        assert response.status_code == 201, response.text
        coupon: dict[str, Any] = response.json()
        return coupon

    async def coupon(self, shop: Shop, **campaign_overrides: Any) -> tuple[dict[str, Any], Headers]:
        """A customer's active coupon of a new campaign of `shop`, and the customer."""
        campaign = await self.campaign(shop, **campaign_overrides)
        _, customer = self.customer()
        return await self.claim(campaign, customer), customer

    async def redeem(self, shop: Shop, code: str, **body: Any) -> httpx.Response:
        return await self.http.post(
            f"/api/v1/coupons/{code}/redeem",
            json={"outlet_id": str(shop.outlet_id), **body},
            headers=shop.staff,
        )


@pytest.fixture
def fake_merchants() -> FakeMerchants:
    return FakeMerchants()


@pytest.fixture
def coupons_settings() -> CouponsSettings:
    # Without the process memory, so tests that age DynamoDB entries see the effect;
    # test_merchant_directory covers the memory itself.
    return CouponsSettings(merchant_cache_local_seconds=0)


@pytest.fixture
def coupons_app(
    connection: AsyncConnection,
    platform_settings: PlatformSettings,
    coupons_settings: CouponsSettings,
    fake_merchants: FakeMerchants,
    aws: Any,
) -> FastAPI:
    return create_app(
        coupons_settings,
        platform_settings,
        database=ConnectionBoundDatabase(platform_settings, connection),
        merchants_transport=httpx.MockTransport(fake_merchants.handle),
    )


@pytest.fixture
async def client(coupons_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=coupons_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def world(client: httpx.AsyncClient, tokens: TestTokens, fake_merchants: FakeMerchants) -> World:
    return World(client, tokens, fake_merchants)
