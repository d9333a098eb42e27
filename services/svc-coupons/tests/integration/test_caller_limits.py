"""Per-caller limits: one account or partner client cannot take the stage's whole throttle.
Writes and code lookups each have a ceiling per principal and window, REST and GraphQL
alike; past it, 429 too_many_requests with Retry-After, and nothing changes."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI

from core.caller_limits import CallerLimit
from core.dynamo import DynamoClientFactory, WindowCounter
from core.errors import TooManyRequests
from svc_coupons.config import CouponsSettings

if TYPE_CHECKING:
    from conftest import World

WRITES = 3
LOOKUPS = 4
CLAIM = "mutation ($id: UUID!) { claimCoupon(campaignId: $id) { id } }"
LOOKUP = "query ($code: String!) { coupon(code: $code) { id } }"
HISTORY = "query ($code: String!) { couponHistory(code: $code) { items { type } } }"


@pytest.fixture
def coupons_settings() -> CouponsSettings:
    return CouponsSettings(
        merchant_cache_local_seconds=0,
        caller_writes_per_window=WRITES,
        caller_lookups_per_window=LOOKUPS,
        caller_window_seconds=3600,
        caller_limit_slack=0,
    )


async def graphql(world: World, headers: dict[str, str], query: str, **variables: Any) -> Any:
    response = await world.http.post(
        "/graphql/coupons", json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_callers_writes_past_the_ceiling_are_429_rest_and_graphql(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=10, total_quantity=100)
    path = f"/api/v1/campaigns/{campaign['id']}/claim"
    _, customer = world.customer()
    for _ in range(WRITES - 1):
        assert (await world.http.post(path, headers=customer)).status_code == 201
    by_graphql = await graphql(world, customer, CLAIM, id=campaign["id"])
    assert by_graphql["data"]["claimCoupon"]["id"]
    refused = await world.http.post(path, headers=customer)
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "too_many_requests"
    assert 0 < int(refused.headers["retry-after"]) <= 3600
    refused_graphql = await graphql(world, customer, CLAIM, id=campaign["id"])
    assert refused_graphql["errors"][0]["extensions"]["code"] == "too_many_requests"
    wallet = (await world.http.get("/api/v1/wallet", headers=customer)).json()
    assert len(wallet["items"]) == WRITES  # the refused claims took nothing
    # Another caller has a ceiling of its own.
    _, other = world.customer()
    assert (await world.http.post(path, headers=other)).status_code == 201


async def test_a_callers_code_lookups_past_the_ceiling_are_429(world: World) -> None:
    coupon, owner = await world.coupon(world.shop())
    lookup = f"/api/v1/coupons/{coupon['code']}"
    for _ in range(LOOKUPS - 1):
        assert (await world.http.get(lookup, headers=owner)).status_code == 200
    found = await graphql(world, owner, LOOKUP, code=coupon["code"])
    assert found["data"]["coupon"]["id"] == coupon["id"]
    refused = await world.http.get(lookup, headers=owner)
    assert (refused.status_code, refused.json()["code"]) == (429, "too_many_requests")
    assert "retry-after" in refused.headers
    refused_graphql = await graphql(world, owner, LOOKUP, code=coupon["code"])
    assert refused_graphql["errors"][0]["extensions"]["code"] == "too_many_requests"


async def test_a_coupons_history_is_a_code_lookup_under_the_same_ceiling(world: World) -> None:
    coupon, owner = await world.coupon(world.shop())
    history = f"/api/v1/coupons/{coupon['code']}/history"
    for _ in range(LOOKUPS - 1):
        assert (await world.http.get(history, headers=owner)).status_code == 200
    found = await graphql(world, owner, HISTORY, code=coupon["code"])
    assert found["data"]["couponHistory"]["items"]
    refused = await world.http.get(history, headers=owner)
    assert (refused.status_code, refused.json()["code"]) == (429, "too_many_requests")
    refused_graphql = await graphql(world, owner, HISTORY, code=coupon["code"])
    assert refused_graphql["errors"][0]["extensions"]["code"] == "too_many_requests"
    lookup = await world.http.get(f"/api/v1/coupons/{coupon['code']}", headers=owner)
    assert lookup.status_code == 429  # one ceiling for lookups and histories


async def test_processes_share_a_callers_count_through_dynamodb(coupons_app: FastAPI) -> None:
    """Two processes' limits on one counter: what one counted, the other refuses by."""
    runtime = coupons_app.state.runtime

    def process() -> CallerLimit:
        counter = WindowCounter(
            DynamoClientFactory(runtime.settings),
            runtime.settings.cache_table,
            prefix="test-caller",
            window_seconds=3600,
        )
        return CallerLimit(counter, ceiling=5, window_seconds=3600, sync_every=1)

    first, second = process(), process()
    for _ in range(4):
        first.take("caller-1")
    await first.settled()
    second.take("caller-1")  # the fifth: it learns the shared count with its update
    await second.settled()
    with pytest.raises(TooManyRequests):
        second.take("caller-1")
    await asyncio.sleep(0)


class UnreachableCounter:
    calls = 0

    async def increment(self, key: str, amount: int = 1) -> tuple[int, int]:
        from botocore.exceptions import EndpointConnectionError

        self.calls += 1
        raise EndpointConnectionError(endpoint_url="http://dynamodb.invalid")


async def test_with_dynamodb_down_requests_go_through_counted_locally() -> None:
    counter = UnreachableCounter()
    limit = CallerLimit(counter, ceiling=3, window_seconds=3600, sync_every=1)  # type: ignore[arg-type]
    for _ in range(2):
        limit.take("caller")
        await limit.settled()
    assert counter.calls == 2  # tried, failed, let through; no retry loop
    limit.take("caller")
    await limit.settled()
    # What this process took is still counted against the ceiling.
    with pytest.raises(TooManyRequests):
        limit.take("caller")
