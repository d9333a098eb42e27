"""During a deploy, the code from before the counter shards still runs beside the new: what
it writes to a campaign's row reaches the shards (migration 0010), so a unit is taken once
whichever code takes it, and never one more than the total."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_coupons.repositories.campaign_units import SHARDS

if TYPE_CHECKING:
    from conftest import World

# How the code from before migration 0009 takes a claim's unit (its ISSUE's `unit` CTE) and
# a batch of codes' units.
OLD_TAKE = text(
    "UPDATE coupons.campaigns SET issued_count = issued_count + :count"
    " WHERE id = :id AND (total_quantity IS NULL OR issued_count + :count <= total_quantity)"
    " RETURNING issued_count"
)
UNITS = text(
    "SELECT count(*) AS shards, sum(capacity) AS capacity, sum(taken) AS taken,"
    " bool_and(open) AS all_open, bool_or(open) AS any_open"
    " FROM coupons.campaign_units WHERE campaign_id = :id"
)


async def old_take(connection: AsyncConnection, campaign_id: Any, count: int = 1) -> bool:
    taken = await connection.execute(OLD_TAKE, {"id": campaign_id, "count": count})
    return taken.first() is not None


async def units(connection: AsyncConnection, campaign_id: Any) -> Any:
    return (await connection.execute(UNITS, {"id": campaign_id})).one()


async def test_old_and_new_claims_share_the_units_and_never_pass_the_total(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=3, per_customer_limit=5)
    claim_path = f"/api/v1/campaigns/{campaign['id']}/claim"
    _, customer = world.customer()

    assert await old_take(connection, campaign["id"])
    assert await old_take(connection, campaign["id"])
    assert (await units(connection, campaign["id"])).taken == 2
    assert (await world.http.post(claim_path, headers=customer)).status_code == 201

    # The shards are empty, though the old count (2 of 3) says one is left: refused.
    assert not await old_take(connection, campaign["id"])
    refused = await world.http.post(claim_path, headers=customer)
    assert refused.json()["code"] == "sold_out"
    assert (await units(connection, campaign["id"])).taken == 3


async def test_an_old_batch_takes_all_its_units_or_none(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    draft = await world.campaign(shop, publish=False, total_quantity=100)

    assert not await old_take(connection, draft["id"], count=101)
    assert (await units(connection, draft["id"])).taken == 0
    assert await old_take(connection, draft["id"], count=100)
    assert (await units(connection, draft["id"])).taken == 100


async def test_a_campaign_the_old_code_creates_publishes_and_resizes_has_its_shards(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    model = await world.campaign(shop, publish=False, total_quantity=10)
    # The old code inserts a campaign row and nothing else.
    await connection.execute(
        text(
            "CREATE TEMP TABLE old_insert ON COMMIT DROP AS"
            " SELECT * FROM coupons.campaigns WHERE id = :id;"
        ),
        {"id": model["id"]},
    )
    created = (
        await connection.execute(
            text("UPDATE old_insert SET id = gen_random_uuid(), total_quantity = 130 RETURNING id")
        )
    ).scalar_one()
    await connection.execute(text("INSERT INTO coupons.campaigns SELECT * FROM old_insert"))
    found = await units(connection, created)
    assert (found.shards, found.capacity, found.taken, found.any_open) == (SHARDS, 130, 0, False)

    await connection.execute(
        text("UPDATE coupons.campaigns SET total_quantity = 200 WHERE id = :id"), {"id": created}
    )
    assert (await units(connection, created)).capacity == 200

    await connection.execute(
        text("UPDATE coupons.campaigns SET status = 'active' WHERE id = :id"), {"id": created}
    )
    assert (await units(connection, created)).all_open
    await connection.execute(
        text("UPDATE coupons.campaigns SET status = 'paused' WHERE id = :id"), {"id": created}
    )
    assert not (await units(connection, created)).any_open


async def test_an_old_resize_below_what_the_shards_gave_out_is_refused(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    draft = await world.campaign(shop, publish=False, total_quantity=100)
    # The new code's codes take their units from the shards only: the old count stays 0.
    codes = await world.http.post(
        f"/api/v1/campaigns/{draft['id']}/codes", json={"count": 50}, headers=shop.owner
    )
    assert codes.status_code == 201, codes.text

    # The old code checks a new total against issued_count (0), so it would set 10; the
    # shards, which gave out 50, refuse it as the old count's CHECK would have.
    with pytest.raises(DBAPIError, match="units_below_taken"):
        async with connection.begin_nested():
            await connection.execute(
                text("UPDATE coupons.campaigns SET total_quantity = 10 WHERE id = :id"),
                {"id": draft["id"]},
            )
    total = await connection.execute(
        text("SELECT total_quantity FROM coupons.campaigns WHERE id = :id"), {"id": draft["id"]}
    )
    assert total.scalar_one() == 100
    found = await units(connection, draft["id"])
    assert (found.capacity, found.taken) == (100, 50)
