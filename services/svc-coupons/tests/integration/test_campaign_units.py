"""A campaign's quantity in its counter shards: the sum of capacities is the total, the sum
of what was taken its issued_count, and the shards are open exactly while it is active."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_coupons.repositories.campaign_units import SHARDS

if TYPE_CHECKING:
    from conftest import World


async def shards(
    connection: AsyncConnection, campaign_id: str
) -> list[tuple[int | None, int, bool]]:
    rows = await connection.execute(
        text(
            "SELECT capacity, taken, open FROM coupons.campaign_units"
            " WHERE campaign_id = :id ORDER BY shard"
        ),
        {"id": campaign_id},
    )
    return [(row.capacity, row.taken, row.open) for row in rows]


def totals(units: list[tuple[int | None, int, bool]]) -> tuple[int | None, int]:
    capacities = [capacity for capacity, _, _ in units]
    total = None if None in capacities else sum(c for c in capacities if c is not None)
    return total, sum(taken for _, taken, _ in units)


async def test_a_draft_total_moves_its_shards_and_never_below_what_was_taken(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    draft = await world.campaign(shop, publish=False, total_quantity=100)
    path = f"/api/v1/campaigns/{draft['id']}"
    units = await shards(connection, draft["id"])
    assert len(units) == SHARDS
    assert totals(units) == (100, 0)
    assert not any(is_open for _, _, is_open in units)
    codes = await world.http.post(f"{path}/codes", json={"count": 70}, headers=shop.owner)
    assert codes.status_code == 201

    lowered = await world.http.patch(path, json={"total_quantity": 75}, headers=shop.owner)
    assert lowered.status_code == 200
    assert (lowered.json()["total_quantity"], lowered.json()["issued_count"]) == (75, 70)
    units = await shards(connection, draft["id"])
    assert totals(units) == (75, 70)
    assert all(capacity is not None and taken <= capacity for capacity, taken, _ in units)

    below = await world.http.patch(path, json={"total_quantity": 69}, headers=shop.owner)
    assert below.json()["code"] == "quantity_below_issued"
    assert totals(await shards(connection, draft["id"])) == (75, 70)

    raised = await world.http.patch(path, json={"total_quantity": 500}, headers=shop.owner)
    assert raised.status_code == 200
    assert totals(await shards(connection, draft["id"])) == (500, 70)
    unlimited = await world.http.patch(path, json={"total_quantity": None}, headers=shop.owner)
    assert unlimited.status_code == 200
    assert totals(await shards(connection, draft["id"])) == (None, 70)


async def test_shards_are_open_exactly_while_the_campaign_is_active(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, publish=False, total_quantity=10)
    path = f"/api/v1/campaigns/{campaign['id']}"
    for action, is_open in (("publish", True), ("pause", False), ("resume", True)):
        moved = await world.http.post(f"{path}/{action}", headers=shop.owner)
        assert moved.status_code == 200
        assert {o for _, _, o in await shards(connection, campaign["id"])} == {is_open}
    _, customer = world.customer()
    claimed = await world.http.post(f"{path}/claim", headers=customer)
    assert claimed.status_code == 201
    ended = await world.http.post(f"{path}/end", headers=shop.owner)
    assert ended.status_code == 200
    units = await shards(connection, campaign["id"])
    assert {o for _, _, o in units} == {False}
    assert totals(units) == (10, 1)
    after = await world.http.post(f"{path}/claim", headers=world.customer()[1])
    assert after.json()["code"] == "campaign_not_active"
    answer = (await world.http.get(path, headers=shop.owner)).json()
    assert answer["issued_count"] == 1
