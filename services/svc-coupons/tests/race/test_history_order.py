"""A coupon's history is in the order its changes committed, not in the order the app's
clock stamped their events: the version the database bumps under the row lock decides."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from conftest import World


async def _waiting_for_locks(engine: AsyncEngine, count: int) -> None:
    """Until `count` sessions wait for a lock (each request's statement behind the row)."""
    async with engine.connect() as connection:
        for _ in range(200):
            waiting = await connection.scalar(
                text("SELECT count(*) FROM pg_locks WHERE NOT granted")
            )
            if waiting >= count:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"never {count} sessions waiting for a lock")


async def test_a_cancel_that_waited_behind_a_void_shows_after_it(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    coupon, sender = await world.coupon(shop)
    gift = (
        await world.http.post(f"/api/v1/coupons/{coupon['code']}/transfers", headers=sender)
    ).json()

    async with migrated_engine.connect() as holder:
        # Someone holds the coupon's row: the void's statement queues for it first, then
        # the cancel's, whose event is stamped by the clock before the void's is (the void
        # makes its event after its statement). The void commits first.
        await holder.execute(
            text("SELECT 1 FROM coupons.coupons WHERE id = :id FOR UPDATE"), {"id": coupon["id"]}
        )
        void = asyncio.create_task(
            world.http.post(
                f"/api/v1/coupons/{coupon['code']}/void",
                json={"reason": "misprint"},
                headers=shop.owner,
            )
        )
        await _waiting_for_locks(migrated_engine, 1)
        cancel = asyncio.create_task(
            world.http.post(f"/api/v1/transfers/{gift['id']}/cancel", headers=sender)
        )
        await _waiting_for_locks(migrated_engine, 2)
        await holder.rollback()
    voided, cancelled = await void, await cancel
    assert voided.status_code == 200, voided.text
    assert cancelled.status_code == 200, cancelled.text

    history = await world.http.get(f"/api/v1/coupons/{coupon['code']}/history", headers=sender)
    assert history.status_code == 200
    assert [entry["type"] for entry in history.json()["items"]] == [
        "coupon.claimed",
        "transfer.created",
        "coupon.voided",
        "transfer.cancelled",
    ]
    async with migrated_engine.connect() as connection:
        versions = (
            await connection.execute(
                text(
                    "SELECT type, entity_version FROM coupons.outbox WHERE entity_id = :id"
                    " ORDER BY entity_version"
                ),
                {"id": coupon["id"]},
            )
        ).all()
    assert [(row.type, row.entity_version) for row in versions] == [
        ("coupon.claimed", 1),
        ("transfer.created", 2),
        ("coupon.voided", 3),
        ("transfer.cancelled", 4),
    ]
