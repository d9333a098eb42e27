"""Limits under real concurrency: many requests at once, each in its own transaction on its
own connection, committing for real. The counts must hold whatever the interleaving."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from conftest import World


async def counts(engine: AsyncEngine, campaign_id: str) -> tuple[int, int, int]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT issued_count, redeemed_count, "
                    "(SELECT count(*) FROM coupons.coupons WHERE campaign_id = :id) "
                    "FROM coupons.campaigns WHERE id = :id"
                ),
                {"id": campaign_id},
            )
        ).one()
    return row[0], row[1], row[2]


def outcomes(responses: list[Any]) -> Counter[Any]:
    return Counter(r.status_code if r.status_code < 400 else r.json()["code"] for r in responses)


async def test_200_customers_claim_50_coupons(world: World, migrated_engine: AsyncEngine) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=50)
    customers = [world.customer()[1] for _ in range(200)]
    responses = await asyncio.gather(
        *(
            world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=customer)
            for customer in customers
        )
    )
    assert outcomes(responses) == {201: 50, "sold_out": 150}
    codes = {r.json()["code"] for r in responses if r.status_code == 201}
    assert len(codes) == 50
    assert await counts(migrated_engine, campaign["id"]) == (50, 0, 50)


async def test_25_redeems_of_one_coupon_redeem_it_once(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    responses = await asyncio.gather(
        *(world.redeem(shop, coupon["code"], order_amount=1000) for _ in range(25))
    )
    assert outcomes(responses) == {200: 1, "already_redeemed": 24}
    async with migrated_engine.connect() as connection:
        redemptions = (
            await connection.execute(
                text("SELECT count(*) FROM coupons.redemptions WHERE coupon_id = :id"),
                {"id": coupon["id"]},
            )
        ).scalar_one()
    assert redemptions == 1
    assert await counts(migrated_engine, coupon["campaign_id"]) == (1, 1, 1)


async def test_one_customer_claiming_20_times_at_once_gets_their_3(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=3, total_quantity=50)
    _, customer = world.customer()
    responses = await asyncio.gather(
        *(
            world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=customer)
            for _ in range(20)
        )
    )
    assert outcomes(responses) == {201: 3, "limit_reached": 17}
    assert await counts(migrated_engine, campaign["id"]) == (3, 0, 3)


async def test_codes_and_claims_together_never_exceed_the_total(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=100)
    code_batches = [
        world.http.post(
            f"/api/v1/campaigns/{campaign['id']}/codes", json={"count": 15}, headers=shop.owner
        )
        for _ in range(5)
    ]
    claims = [
        world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=world.customer()[1])
        for _ in range(60)
    ]
    everything = code_batches + claims
    responses = await asyncio.gather(*everything)
    batches, claimed = responses[: len(code_batches)], responses[len(code_batches) :]
    generated = 15 * sum(r.status_code == 201 for r in batches)
    issued = sum(r.status_code == 201 for r in claimed)
    assert all(r.status_code == 201 or r.json()["code"] == "sold_out" for r in responses), outcomes(
        responses
    )
    assert generated + issued <= 100
    # Demand (135) exceeds supply: what was refused was refused because too little was left.
    assert generated + issued > 100 - 15
    assert await counts(migrated_engine, campaign["id"]) == (
        generated + issued,
        0,
        generated + issued,
    )
