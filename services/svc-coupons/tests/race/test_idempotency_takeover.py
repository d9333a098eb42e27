"""An Idempotency-Key claim taken over from a request that stalled past the takeover age:
the stalled request, when it comes back, can neither complete nor release the new owner's
claim, so the key executes once."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.config import PlatformSettings
from core.database import Database
from svc_coupons.app import create_app
from svc_coupons.components import CouponsComponents
from svc_coupons.config import CouponsSettings
from svc_coupons.services.issuing import IssuingService

if TYPE_CHECKING:
    from conftest import FakeMerchants, World

# Takeover after 1.5 x this: short, so the test waits a fraction of a second.
REQUEST_TIMEOUT_SECONDS = 0.2


@pytest.fixture
def coupons_app(
    race_database: Database,
    platform_settings: PlatformSettings,
    fake_merchants: FakeMerchants,
    aws: Any,
) -> FastAPI:
    return create_app(
        CouponsSettings(),
        platform_settings.model_copy(update={"request_timeout_seconds": REQUEST_TIMEOUT_SECONDS}),
        database=race_database,
        merchants_transport=httpx.MockTransport(fake_merchants.handle),
    )


class HeldClaims:
    """The next claim stops inside its endpoint, after its key was claimed, until let go."""

    def __init__(self, components: CouponsComponents) -> None:
        self._issuing = components.issuing
        self.entered = asyncio.Event()
        self.go_on = asyncio.Event()
        self._armed = True

    def issuing(self, session: AsyncSession, *, authorization: str | None) -> IssuingService:
        service = self._issuing(session, authorization=authorization)
        if self._armed:
            self._armed = False
            claim = service.claim

            async def held_claim(**arguments: Any) -> Any:
                self.entered.set()
                await self.go_on.wait()
                return await claim(**arguments)

            service.claim = held_claim  # type: ignore[method-assign]
        return service


async def coupons_of(engine: AsyncEngine, campaign_id: str) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(
            text("SELECT count(*) FROM coupons.coupons WHERE campaign_id = :id"),
            {"id": campaign_id},
        )
    return int(count or 0)


async def test_a_stalled_request_cannot_complete_a_key_taken_over(
    world: World,
    coupons_app: FastAPI,
    migrated_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=5)
    _, customer = world.customer()
    held = HeldClaims(coupons_app.state.coupons)
    monkeypatch.setattr(coupons_app.state.coupons, "issuing", held.issuing)
    path = f"/api/v1/campaigns/{campaign['id']}/claim"
    headers = {**customer, "Idempotency-Key": "claim-once"}

    stalled = asyncio.create_task(world.http.post(path, headers=headers))
    await asyncio.wait_for(held.entered.wait(), timeout=10)
    # While the first holds its claim, a retry is told it is in flight.
    early = await world.http.post(path, headers=headers)
    assert early.status_code == 409
    assert early.json()["code"] == "idempotency_key_in_flight"

    await asyncio.sleep(1.5 * REQUEST_TIMEOUT_SECONDS + 0.2)  # past the takeover age
    retry = await world.http.post(path, headers=headers)
    assert retry.status_code == 201
    held.go_on.set()
    late = await stalled

    # The stalled request's completion found its claim gone: its work was rolled back.
    assert late.status_code == 409
    assert late.json()["code"] == "idempotency_key_in_flight"
    assert await coupons_of(migrated_engine, campaign["id"]) == 1
    # And the key answers with the one execution's response, its claim intact.
    again = await world.http.post(path, headers=headers)
    assert again.status_code == 201
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == retry.json()
