"""A hot campaign's claims are bounded per process, while other campaigns' go through."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi import FastAPI

from core.config import PlatformSettings
from core.database import Database
from svc_coupons.app import create_app
from svc_coupons.config import CouponsSettings

if TYPE_CHECKING:
    from conftest import FakeMerchants, World

BOUND = 2
GRAPHQL = "/graphql/coupons"
CLAIM_MUTATION = "mutation ($id: UUID!) { claimCoupon(campaignId: $id) { id } }"


def outcomes(responses: list[Any]) -> Counter[Any]:
    return Counter(r.status_code if r.status_code < 400 else r.json()["code"] for r in responses)


async def claim(world: World, campaign: dict[str, Any]) -> httpx.Response:
    return await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/claim", headers=world.customer()[1]
    )


class HeldMerchants(httpx.AsyncBaseTransport):
    """svc-merchants, answering one merchant only once `released`: a claim on its campaign
    waits in the middle of its work (after its first statement, before the claim statement)
    for as long as the test likes."""

    def __init__(self, fake: FakeMerchants) -> None:
        self.fake = fake
        self.held_merchant: str | None = None
        self.released = asyncio.Event()
        self.waiting = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.held_merchant is not None and self.held_merchant in request.url.path:
            self.waiting += 1
            try:
                await self.released.wait()
            finally:
                self.waiting -= 1
        response = self.fake.handle(request)
        return httpx.Response(
            response.status_code, headers=response.headers, content=response.content
        )


@pytest.fixture
def held_merchants(fake_merchants: FakeMerchants) -> HeldMerchants:
    return HeldMerchants(fake_merchants)


@pytest.fixture
def coupons_app(
    race_database: Database,
    platform_settings: PlatformSettings,
    held_merchants: HeldMerchants,
    aws: Any,
) -> FastAPI:
    settings = CouponsSettings(
        claims_in_flight_per_campaign=BOUND,
        # Every claim asks svc-merchants, so each held one stays held.
        merchant_cache_seconds=0,
        merchant_cache_local_seconds=0,
    )
    return create_app(
        settings, platform_settings, database=race_database, merchants_transport=held_merchants
    )


async def until(condition: Any) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the claims never got under way")


async def test_a_hot_campaign_past_its_bound_is_refused_at_once_and_others_go_on(
    world: World, held_merchants: HeldMerchants
) -> None:
    hot_shop, other_shop = world.shop(), world.shop()
    hot = await world.campaign(hot_shop)
    other = await world.campaign(other_shop)
    held_merchants.held_merchant = str(hot_shop.merchant_id)
    in_flight = [asyncio.create_task(claim(world, hot)) for _ in range(BOUND)]
    try:
        await until(lambda: held_merchants.waiting == BOUND)

        busy = await asyncio.wait_for(claim(world, hot), timeout=2)
        assert busy.status_code == 429
        assert busy.headers["content-type"].startswith("application/problem+json")
        assert busy.json()["code"] == "campaign_busy"
        assert busy.headers["retry-after"] == "1"

        graphql = await asyncio.wait_for(
            world.http.post(
                GRAPHQL,
                json={"query": CLAIM_MUTATION, "variables": {"id": hot["id"]}},
                headers=world.customer()[1],
            ),
            timeout=2,
        )
        extensions = graphql.json()["errors"][0]["extensions"]
        assert extensions["code"] == "campaign_busy"
        assert extensions["retry_after"] == 1

        bystander = await asyncio.wait_for(claim(world, other), timeout=5)
        assert bystander.status_code == 201, bystander.text
        assert not any(task.done() for task in in_flight)
    finally:
        held_merchants.released.set()
        served = await asyncio.gather(*in_flight)
    assert outcomes(list(served)) == {201: BOUND}
    # The slots are free again.
    assert (await claim(world, hot)).status_code == 201
