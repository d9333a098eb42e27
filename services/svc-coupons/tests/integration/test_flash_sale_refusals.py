"""A campaign that refuses every claim (sold out, ended, not started) answers from the
process's memory, with no statement at all, and never while a unit remains."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import utcnow
from devstack.testing.statements import counting_statements
from svc_coupons.services.claim_refusals import ClaimRefusals

if TYPE_CHECKING:
    from conftest import Headers, Shop, World


class Clock:
    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


@pytest.fixture
def clock(coupons_app: FastAPI) -> Clock:
    """The process's memory, on a clock the test moves."""
    clock = Clock()
    coupons_app.state.coupons.claim_refusals = ClaimRefusals(recheck_seconds=2.0, monotonic=clock)
    return clock


async def claim(world: World, campaign: dict[str, Any], customer: Headers | None = None) -> Any:
    headers = customer or world.customer()[1]
    return await world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=headers)


async def sold_out_campaign(world: World, shop: Shop) -> dict[str, Any]:
    """A campaign of one unit, claimed, then refused once (a read showing none left)."""
    campaign = await world.campaign(shop, total_quantity=1)
    assert (await claim(world, campaign)).status_code == 201
    refused = await claim(world, campaign)
    assert refused.json()["code"] == "sold_out"
    return campaign


async def test_a_sold_out_claim_runs_no_statement(
    world: World, connection: AsyncConnection, clock: Clock
) -> None:
    campaign = await sold_out_campaign(world, world.shop())
    with counting_statements(connection) as statements:
        refused = await claim(world, campaign)
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "sold_out"
    assert statements == []


async def test_without_the_memory_a_sold_out_claim_asks_the_database(
    world: World, connection: AsyncConnection, coupons_app: FastAPI
) -> None:
    # The counter above counts: the same refusal, remembered by nobody, runs statements.
    coupons_app.state.coupons.claim_refusals = ClaimRefusals(recheck_seconds=0)
    campaign = await world.campaign(world.shop(), total_quantity=1)
    assert (await claim(world, campaign)).status_code == 201
    assert (await claim(world, campaign)).json()["code"] == "sold_out"
    with counting_statements(connection) as statements:
        assert (await claim(world, campaign)).json()["code"] == "sold_out"
    assert statements


async def test_ended_and_not_started_campaigns_run_no_statement(
    world: World, connection: AsyncConnection, clock: Clock
) -> None:
    shop = world.shop()
    ended = await world.campaign(shop)
    await world.http.post(f"/api/v1/campaigns/{ended['id']}/end", headers=shop.owner)
    upcoming = await world.campaign(shop, starts_at=(utcnow() + timedelta(hours=1)).isoformat())
    for campaign in (ended, upcoming):
        assert (await claim(world, campaign)).json()["code"] == "campaign_not_active"
        with counting_statements(connection) as statements:
            refused = await claim(world, campaign)
        assert refused.json()["code"] == "campaign_not_active"
        assert statements == []


async def test_a_paused_campaign_is_asked_every_time_and_reopens_on_resume(
    world: World, connection: AsyncConnection, clock: Clock
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    await world.http.post(f"/api/v1/campaigns/{campaign['id']}/pause", headers=shop.owner)
    assert (await claim(world, campaign)).json()["code"] == "campaign_not_active"
    with counting_statements(connection) as statements:
        assert (await claim(world, campaign)).json()["code"] == "campaign_not_active"
    assert statements
    await world.http.post(f"/api/v1/campaigns/{campaign['id']}/resume", headers=shop.owner)
    assert (await claim(world, campaign)).status_code == 201


async def test_pausing_a_sold_out_campaign_turns_its_answer_at_once(
    world: World, clock: Clock
) -> None:
    shop = world.shop()
    campaign = await sold_out_campaign(world, shop)
    paused = await world.http.post(f"/api/v1/campaigns/{campaign['id']}/pause", headers=shop.owner)
    assert paused.status_code == 200, paused.text
    assert (await claim(world, campaign)).json()["code"] == "campaign_not_active"


async def test_raising_the_quantity_reopens_claims(
    world: World, connection: AsyncConnection, clock: Clock
) -> None:
    # Through the API a quantity changes only on a draft, which no claim can be remembered
    # for: printed codes use the draft's quantity up, the owner raises it and publishes.
    shop = world.shop()
    draft = await world.campaign(shop, publish=False, total_quantity=2)
    codes = await world.http.post(
        f"/api/v1/campaigns/{draft['id']}/codes", json={"count": 2}, headers=shop.owner
    )
    assert codes.status_code == 201, codes.text
    assert (await claim(world, draft)).status_code == 404  # a draft, to a customer
    patched = await world.http.patch(
        f"/api/v1/campaigns/{draft['id']}", json={"total_quantity": 3}, headers=shop.owner
    )
    assert patched.status_code == 200, patched.text
    await world.http.post(f"/api/v1/campaigns/{draft['id']}/publish", headers=shop.owner)
    assert (await claim(world, draft)).status_code == 201
    assert (await claim(world, draft)).json()["code"] == "sold_out"

    # Raised where this process does not see it (another process, an operator's fix): the
    # memory asks again within its recheck time, then claims go through.
    await connection.execute(
        text("UPDATE coupons.campaigns SET total_quantity = 4 WHERE id = :id"), {"id": draft["id"]}
    )
    assert (await claim(world, draft)).json()["code"] == "sold_out"
    clock.seconds += 2.0
    assert (await claim(world, draft)).status_code == 201
