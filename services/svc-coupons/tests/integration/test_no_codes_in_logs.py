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


async def test_the_exchange_logs_no_code_and_no_claim_token(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    shop = world.shop()
    coupon, sender = await world.coupon(shop)
    offered, taker = await world.coupon(shop)
    with caplog.at_level(logging.DEBUG):
        gift = (
            await world.http.post(f"/api/v1/coupons/{coupon['code']}/transfers", headers=sender)
        ).json()
        taken = (
            await world.http.post(
                f"/api/v1/transfers/{gift['id']}/accept",
                json={"claim_token": gift["claim_token"]},
                headers=world.customer()[1],
            )
        ).json()
        listing = (
            await world.http.post(
                "/api/v1/exchange/listings", json={"coupon_code": offered["code"]}, headers=taker
            )
        ).json()
        await world.http.post(f"/api/v1/exchange/listings/{listing['id']}/cancel", headers=taker)
    secrets = (coupon["code"], taken["code"], offered["code"], gift["claim_token"])
    service_records = [r.getMessage() for r in caplog.records if r.name != "httpx"]
    assert service_records  # the access log saw the requests
    assert not [line for line in service_records if any(s in line for s in secrets)]
