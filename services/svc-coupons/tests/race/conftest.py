"""Race tests need real commits and many connections at once, so here the app runs on a real
Database (its own pool) instead of the rolled-back test connection; what a test created is
deleted after it, so the other suites never see it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.config import PlatformSettings
from core.database import Database
from svc_coupons.app import create_app
from svc_coupons.config import CouponsSettings

if TYPE_CHECKING:
    from conftest import FakeMerchants

POOL = 20


@pytest.fixture
async def race_database(
    migrated_engine: AsyncEngine, platform_settings: PlatformSettings
) -> AsyncIterator[Database]:
    settings = platform_settings.model_copy(
        update={"database_pool_size": POOL, "database_max_overflow": POOL}
    )
    database = Database(settings)
    yield database
    await database.dispose()


@pytest.fixture
def coupons_app(
    race_database: Database,
    platform_settings: PlatformSettings,
    fake_merchants: FakeMerchants,
    aws: Any,
) -> FastAPI:
    return create_app(
        # Every claim of a race reaches the claim statement: these tests are about what it
        # decides; the bound on one campaign's claims in flight has tests of its own.
        CouponsSettings(claims_in_flight_per_campaign=10_000),
        platform_settings,
        database=race_database,
        merchants_transport=httpx.MockTransport(fake_merchants.handle),
    )


@pytest.fixture(autouse=True)
async def delete_what_the_race_created(
    migrated_engine: AsyncEngine, fake_merchants: FakeMerchants
) -> AsyncIterator[None]:
    yield
    merchants = list(fake_merchants.merchants)
    async with migrated_engine.begin() as connection:
        for statement in (
            """DELETE FROM coupons.outbox WHERE entity_id IN (
                SELECT id::text FROM coupons.coupons WHERE merchant_id = ANY(:m)
                UNION SELECT id::text FROM coupons.campaigns WHERE merchant_id = ANY(:m))""",
            "DELETE FROM coupons.redemptions WHERE merchant_id = ANY(:m)",
            "DELETE FROM coupons.listings WHERE merchant_id = ANY(:m)",
            """DELETE FROM coupons.transfers WHERE coupon_id IN (
                SELECT id FROM coupons.coupons WHERE merchant_id = ANY(:m))""",
            "DELETE FROM coupons.coupons WHERE merchant_id = ANY(:m)",
            "DELETE FROM coupons.allocations WHERE merchant_id = ANY(:m)",
            """DELETE FROM coupons.customer_claims WHERE campaign_id IN (
                SELECT id FROM coupons.campaigns WHERE merchant_id = ANY(:m))""",
            """DELETE FROM coupons.campaign_units WHERE campaign_id IN (
                SELECT id FROM coupons.campaigns WHERE merchant_id = ANY(:m))""",
            "DELETE FROM coupons.campaigns WHERE merchant_id = ANY(:m)",
        ):
            await connection.execute(text(statement), {"m": merchants})
