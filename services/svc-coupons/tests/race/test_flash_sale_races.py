"""A flash sale under real concurrency: exact counts with the refusal memory in front."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from conftest import World


def outcomes(responses: list[Any]) -> Counter[Any]:
    return Counter(r.status_code if r.status_code < 400 else r.json()["code"] for r in responses)


async def counts(engine: AsyncEngine, campaign_id: str) -> tuple[int, int]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT (SELECT sum(taken) FROM coupons.campaign_units"
                    " WHERE campaign_id = :id),"
                    " (SELECT count(*) FROM coupons.coupons WHERE campaign_id = :id)"
                ),
                {"id": campaign_id},
            )
        ).one()
    return row[0], row[1]


async def claim(world: World, campaign: dict[str, Any]) -> httpx.Response:
    return await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/claim", headers=world.customer()[1]
    )


async def test_a_sale_sold_out_under_a_race_counts_exactly(
    world: World, migrated_engine: AsyncEngine
) -> None:
    campaign = await world.campaign(world.shop(), total_quantity=20)
    responses = await asyncio.gather(*(claim(world, campaign) for _ in range(80)))
    assert outcomes(responses) == {201: 20, "sold_out": 60}
    assert await counts(migrated_engine, campaign["id"]) == (20, 20)
    assert outcomes([await claim(world, campaign) for _ in range(5)]) == {"sold_out": 5}


async def test_pause_and_resume_amid_the_claims_leave_no_unit_unclaimable(
    world: World, migrated_engine: AsyncEngine
) -> None:
    # Claims refused while paused must not be remembered: once resumed, every unit goes.
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=30)
    path = f"/api/v1/campaigns/{campaign['id']}"

    async def pause_and_resume() -> None:
        for _ in range(3):
            await world.http.post(f"{path}/pause", headers=shop.owner)
            await asyncio.sleep(0)
            await world.http.post(f"{path}/resume", headers=shop.owner)

    racing = await asyncio.gather(*(claim(world, campaign) for _ in range(40)), pause_and_resume())
    taken = sum(1 for r in racing[:-1] if r.status_code == 201)
    later = [await claim(world, campaign) for _ in range(30 - taken + 3)]
    assert outcomes(later) == {201: 30 - taken, "sold_out": 3}
    assert await counts(migrated_engine, campaign["id"]) == (30, 30)
