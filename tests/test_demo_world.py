"""make demo's world, built through the gateway: every coupon state, and nothing twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx

from devstack.demo.fill import World, build_world, report, wallet
from devstack.demo.world import CUSTOMERS
from devstack.testing.tokens import TestTokens
from platform_client import PlatformClient


async def census(world: World) -> dict[str, object]:
    counts: dict[str, object] = {}
    for key, scene in world.merchants.items():
        owner = scene.owner
        mine = await owner.merchants.list_merchants(mine=True)
        outlets = await owner.merchants.list_outlets(scene.merchant["id"])
        campaigns = await owner.coupons.list_campaigns(
            merchant_id=scene.merchant["id"], status="active"
        )
        counts[key] = (len(mine["items"]), len(outlets["items"]), len(campaigns["items"]))
    for email, customer in world.customers.items():
        counts[email] = Counter(c["status"] for c in await wallet(customer))
    return counts


async def test_the_demo_world_has_every_coupon_state_and_a_second_run_adds_nothing(
    gateway: httpx.AsyncClient, tokens: TestTokens, tmp_path: Path
) -> None:
    api = PlatformClient(gateway)
    admin = api.as_caller(tokens.admin())
    first = await build_world(api, admin, tmp_path)
    counts = await census(first)
    alice, bob, carol, dave = (counts[email] for email in CUSTOMERS)
    assert alice == Counter({"active": 1, "reserved": 1})
    assert bob == Counter({"active": 1, "reserved": 1, "void": 1})
    assert carol == Counter({"redeemed": 1, "expired": 1})
    assert dave == Counter({"active": 1})
    assert counts["coffee"] == (1, 2, 3)

    again = await build_world(api, admin, tmp_path)
    assert await census(again) == counts
    assert again.partner_client["client_id"] == first.partner_client["client_id"]
    text = await report(again, "http://127.0.0.1:8000")
    assert "curl -s http://127.0.0.1:8000/api/v1/wallet" in text
    assert again.partner_client["client_secret"] in text
