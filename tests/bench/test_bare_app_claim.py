"""The benches' baseline and seeding run the platform's claim statements as they stand: the
bare app's claim takes its units from the campaign's counter shards, and seeded coupons
are counted where claims count them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import bare_app
import httpx
import pytest
from flash.designs import PLATFORM_NOW
from flash.server import Database, create_database, drop_database
from flash.world import World
from hotpaths.database import issued_counts
from seeding import seed_active_coupons

pytestmark = pytest.mark.integration

QUANTITY = 5


@pytest.fixture
async def coupons_database(database_url: str) -> AsyncIterator[Database]:
    database = await create_database(database_url)
    yield database
    await drop_database(database)


async def test_the_bare_app_claims_exactly_a_campaigns_quantity(
    coupons_database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_DATABASE_URL", coupons_database.url)
    db = await asyncpg.connect(coupons_database.url)
    try:
        block = await World(db).campaigns(PLATFORM_NOW, 1, total=QUANTITY)
        (campaign_id,) = block.ids
        transport = httpx.ASGITransport(app=bare_app.app)
        async with (
            bare_app.lifespan(bare_app.app),
            httpx.AsyncClient(transport=transport, base_url="http://bare") as client,
        ):

            async def claim(customer: uuid.UUID) -> httpx.Response:
                return await client.post(
                    f"/campaigns/{campaign_id}/claim", headers={"X-User-Id": str(customer)}
                )

            answers = await asyncio.gather(*(claim(uuid.uuid4()) for _ in range(QUANTITY + 3)))
            issued = next(answer.json() for answer in answers if answer.status_code == 201)
            again = await claim(uuid.UUID(issued["owner_user_id"]))
        statuses = sorted(answer.status_code for answer in answers)
        assert statuses == [201] * QUANTITY + [409] * 3
        assert {a.json()["code"] for a in answers if a.status_code == 409} == {"sold_out"}
        assert again.status_code == 409
        assert await issued_counts(db, str(campaign_id)) == (QUANTITY, QUANTITY)
    finally:
        await db.close()


async def test_seeded_coupons_are_units_taken_from_the_shards(coupons_database: Database) -> None:
    db = await asyncpg.connect(coupons_database.url)
    try:
        block = await World(db).campaigns(PLATFORM_NOW, 1, total=QUANTITY)
        (campaign_id,) = block.ids
        await seed_active_coupons(db, campaign_id=campaign_id, owner_id=uuid.uuid4(), count=3)
        assert await issued_counts(db, str(campaign_id)) == (3, 3)
        with pytest.raises(RuntimeError, match="no 3 units left"):
            await seed_active_coupons(db, campaign_id=campaign_id, owner_id=uuid.uuid4(), count=3)
        assert await issued_counts(db, str(campaign_id)) == (3, 3)
    finally:
        await db.close()
