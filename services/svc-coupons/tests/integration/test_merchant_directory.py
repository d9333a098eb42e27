"""svc-merchants over HTTP: the caller's credentials go along, answers are cached briefly,
and an outage is a 503 rather than a wrong answer."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from core.config import PlatformSettings
from core.database.engine import ConnectionBoundDatabase
from svc_coupons.app import create_app
from svc_coupons.config import CouponsSettings

if TYPE_CHECKING:
    from conftest import FakeMerchants, World


def merchant_lookups(world: World, merchant_id: Any) -> int:
    return world.merchants.calls.count(f"/api/v1/merchants/{merchant_id}")


async def test_answers_are_cached_across_requests(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    for _ in range(3):
        _, customer = world.customer()
        await world.claim(campaign, customer)
    assert merchant_lookups(world, shop.merchant_id) == 1


async def test_a_stale_cache_entry_is_fetched_again(world: World, aws: Any) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    aws.update_item(
        TableName="test-cache",
        Key={"pk": {"S": f"coupons#merchant#{shop.merchant_id}"}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )
    _, customer = world.customer()
    await world.claim(campaign, customer)
    assert merchant_lookups(world, shop.merchant_id) == 2


async def test_a_missing_cache_table_only_costs_a_lookup(world: World, aws: Any) -> None:
    shop = world.shop()
    aws.delete_table(TableName="test-cache")
    campaign = await world.campaign(shop)
    _, customer = world.customer()
    await world.claim(campaign, customer)
    assert merchant_lookups(world, shop.merchant_id) == 3  # create, publish, claim


async def test_verification_counts_at_once(world: World) -> None:
    shop = world.shop(status="pending")
    body = world.campaign_body(shop)
    refused = await world.http.post("/api/v1/campaigns", json=body, headers=shop.owner)
    assert refused.json()["code"] == "merchant_not_verified"
    world.merchants.set_status(shop.merchant_id, "verified")
    created = await world.http.post("/api/v1/campaigns", json=body, headers=shop.owner)
    assert created.status_code == 201, created.text


async def test_a_new_outlet_is_known_at_once(world: World) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop, outlet_ids=[str(shop.outlet_id)])
    other, _ = await world.coupon(shop)
    assert (await world.redeem(shop, coupon["code"])).status_code == 200  # outlets now cached
    opened_today = world.merchants.add_outlet(shop.merchant_id)
    response = await world.redeem(shop, other["code"], outlet_id=str(opened_today))
    assert response.status_code == 200, response.text


async def test_the_callers_credentials_are_forwarded(world: World) -> None:
    shop = world.shop()
    await world.campaign(shop, publish=False)
    assert world.merchants.authorizations[0] == shop.owner["Authorization"]


async def test_an_outage_is_503(world: World) -> None:
    shop = world.shop()
    world.merchants.down = True
    response = await world.http.post(
        "/api/v1/campaigns", json=world.campaign_body(shop), headers=shop.owner
    )
    assert response.status_code == 503
    assert response.json()["code"] == "merchants_unavailable"
    assert response.headers["retry-after"] == "5"


async def test_an_unreachable_service_is_503(
    connection: AsyncConnection,
    platform_settings: PlatformSettings,
    world: World,
    aws: Any,
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app: FastAPI = create_app(
        CouponsSettings(),
        platform_settings,
        database=ConnectionBoundDatabase(platform_settings, connection),
        merchants_transport=httpx.MockTransport(refuse),
    )
    shop = world.shop()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        response = await http.post(
            "/api/v1/campaigns", json=world.campaign_body(shop), headers=shop.owner
        )
    assert response.status_code == 503
    assert response.json()["code"] == "merchants_unavailable"


async def test_an_asgi_app_can_stand_in_for_svc_merchants(
    connection: AsyncConnection,
    platform_settings: PlatformSettings,
    fake_merchants: FakeMerchants,
    world: World,
    aws: Any,
) -> None:
    stand_in = FastAPI()

    @stand_in.get("/api/v1/merchants/{merchant_id}")
    async def merchant(merchant_id: UUID) -> dict[str, Any]:
        return fake_merchants.merchants[merchant_id]

    app = create_app(
        CouponsSettings(),
        platform_settings,
        database=ConnectionBoundDatabase(platform_settings, connection),
        merchants_transport=httpx.ASGITransport(app=stand_in),
    )
    shop = world.shop()
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        response = await http.post(
            "/api/v1/campaigns", json=world.campaign_body(shop), headers=shop.owner
        )
    assert response.status_code == 201, response.text


MALFORMED = {
    "html": httpx.Response(
        200, content=b"<html>Gateway says hi</html>", headers={"Content-Type": "text/html"}
    ),
    "json_list": httpx.Response(200, json=[{"id": "x"}]),
    "missing_keys": httpx.Response(200, json={"name": "Corner Bakery"}),
    "bad_id": httpx.Response(200, json={"id": "not-a-uuid", "status": "verified"}),
    "bad_owner": httpx.Response(
        200,
        json={
            "id": "6f1c1d2e-0000-4000-8000-000000000000",
            "status": "verified",
            "owner_user_id": 42,
        },
    ),
    "null_body": httpx.Response(200, json=None),
    "string_body": httpx.Response(200, json="verified"),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
async def test_a_malformed_merchant_answer_is_503(world: World, kind: str) -> None:
    shop = world.shop()
    world.merchants.answer = MALFORMED[kind]
    response = await world.http.post(
        "/api/v1/campaigns", json=world.campaign_body(shop), headers=shop.owner
    )
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "merchants_unavailable"
    assert response.headers["retry-after"] == "5"


@pytest.mark.parametrize(
    "page",
    [
        ["not", "a", "page"],
        {"items": "abc", "next_cursor": None},
        {"items": [{"name": "no id"}], "next_cursor": None},
        {"items": [{"id": "not-a-uuid"}], "next_cursor": None},
        {"items": [None], "next_cursor": None},
        {"items": [], "next_cursor": 7},
        {"items": [], "next_cursor": "the same page again"},
    ],
)
async def test_a_malformed_outlet_page_is_503(world: World, page: Any) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    _, customer = world.customer()
    coupon = await world.claim(campaign, customer)
    # The merchant is cached as verified; now its outlet list comes back broken.
    world.merchants.answer = httpx.Response(200, json=page)
    response = await asyncio.wait_for(world.redeem(shop, coupon["code"]), timeout=10)
    assert response.status_code == 503, response.text
    assert response.json()["code"] == "merchants_unavailable"
    # Nothing broken was cached: once svc-merchants answers properly, all is well.
    world.merchants.answer = None
    assert (await world.redeem(shop, coupon["code"])).status_code == 200


async def test_process_memory_spares_dynamodb_and_yields_to_evictions(
    coupons_app: Any, aws: Any
) -> None:
    from uuid import uuid4

    from svc_coupons.repositories.cache import DynamoCache

    cache = DynamoCache(
        coupons_app.state.runtime.dynamo,
        "test-cache",
        prefix="memory",
        ttl_seconds=30,
        local_seconds=5,
    )
    key = f"merchant#{uuid4()}"
    await cache.put(key, {"status": "verified"})
    aws.delete_table(TableName="test-cache")  # DynamoDB gone: memory still answers
    assert await cache.get(key) == {"status": "verified"}
    from core.dynamo import ensure_tables

    ensure_tables(aws, coupons_app.state.runtime.settings)
    await cache.delete(key)  # an eviction clears this process's memory too
    assert await cache.get(key) is None
