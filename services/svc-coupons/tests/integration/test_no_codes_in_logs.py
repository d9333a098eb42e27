"""Coupon codes are bearer secrets: the access log and our own logs never show one whole."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import World


async def test_paths_with_codes_are_logged_masked(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    code = coupon["code"]
    with caplog.at_level(logging.DEBUG):
        await world.http.get(f"/api/v1/coupons/{code}", headers=owner)
        await world.redeem(shop, code)
        await world.http.post("/api/v1/coupons/claim", json={"code": "NOSUCHCODE22"}, headers=owner)
    access = [r.getMessage() for r in caplog.records if r.name == "access"]
    assert any(f"/api/v1/coupons/{code[:4]}…/redeem" in line for line in access)
    # The test's own HTTP client ("httpx") logs the URLs it calls; the service must not.
    service_records = [r for r in caplog.records if r.name != "httpx"]
    assert all(code not in record.getMessage() for record in service_records)
