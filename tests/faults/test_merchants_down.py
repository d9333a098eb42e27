"""svc-merchants down or silent, as svc-coupons sees it over HTTP: a merchant svc-coupons
must ask about is a quick 503 merchants_unavailable with Retry-After (within the client's
timeout when it hangs); a verified merchant still in the cache keeps working; nothing is
half written."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest

from devstack.testing.api import bearer

from .conftest import Postgres, Relay, Stack, expect, open_shop

pytestmark = pytest.mark.slow  # starts a whole stack of its own

TIMEOUT_SECONDS = 2.0  # COUPONS_MERCHANTS_TIMEOUT_SECONDS' default
CACHE_SECONDS = 3.0  # as the suite's stack sets it


async def claim(
    http: httpx.AsyncClient, campaign_id: str, token: str
) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = await http.post(f"/api/v1/campaigns/{campaign_id}/claim", headers=bearer(token))
    return response, time.monotonic() - started


async def test_an_unreachable_merchant_directory_is_a_quick_503(
    http: httpx.AsyncClient, stack: Stack, postgres: Postgres, merchants_relay: Relay
) -> None:
    known = await open_shop(http, stack.tokens)
    unknown = await open_shop(http, stack.tokens)
    await asyncio.sleep(CACHE_SECONDS + 1.5)  # neither is in svc-coupons' cache now
    await expect(
        await http.post(
            f"/api/v1/campaigns/{known.campaign_id}/claim", headers=bearer(stack.tokens.token())
        ),
        201,
    )  # `known` is cached again
    try:
        await merchants_relay.set("refused")
        response, took = await claim(http, unknown.campaign_id, stack.tokens.token())
        assert (response.status_code, response.json()["code"]) == (503, "merchants_unavailable")
        assert response.headers["retry-after"]
        assert took < 1.0
        cached, _ = await claim(http, known.campaign_id, stack.tokens.token())
        assert cached.status_code == 201, cached.text

        await merchants_relay.set("silent")
        response, took = await claim(http, unknown.campaign_id, stack.tokens.token())
        assert (response.status_code, response.json()["code"]) == (503, "merchants_unavailable")
        assert TIMEOUT_SECONDS - 0.2 < took < TIMEOUT_SECONDS + 1.5
    finally:
        await merchants_relay.set("up")
    answered, _ = await claim(http, unknown.campaign_id, stack.tokens.token())
    assert answered.status_code == 201, answered.text
    # The refused claims took nothing: one coupon, one unit.
    issued = await postgres.fetchval(
        "SELECT sum(taken) FROM coupons.campaign_units WHERE campaign_id = $1",
        uuid.UUID(unknown.campaign_id),
    )
    assert issued == 1
