"""The exchange end to end, through the gateway, as the customer and C2C portals drive it:
a gift accepted and redeemed by its recipient, and a swap after which both customers redeem
what they received. Codes change hands with the coupons; the old ones are gone."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from devstack.testing.api import expect

if TYPE_CHECKING:
    from conftest import Scene


async def redeem(scene: Scene, code: str) -> httpx.Response:
    return await scene.http.post(
        f"/api/v1/coupons/{code}/redeem",
        headers=scene.staff,
        json={"outlet_id": scene.outlet["id"], "order_amount": 5000},
    )


async def history_types(scene: Scene, code: str, headers: dict[str, str]) -> list[str]:
    history = expect(await scene.http.get(f"/api/v1/coupons/{code}/history", headers=headers))
    return [entry["type"] for entry in history["items"]]


async def test_gift_accept_and_redeem_by_the_recipient(
    gateway: httpx.AsyncClient, scene: Scene
) -> None:
    sender = await scene.customer("gina@example.com")
    recipient = await scene.customer("hugo@example.com")
    coupon = await scene.claim(sender)
    gift = expect(
        await gateway.post(f"/api/v1/coupons/{coupon['code']}/transfers", headers=sender), 201
    )
    # The gift link carries the transfer id and the token; the recipient accepts it.
    received = expect(
        await gateway.post(
            f"/api/v1/transfers/{gift['id']}/accept",
            json={"claim_token": gift["claim_token"]},
            headers=recipient,
        )
    )
    assert received["id"] == coupon["id"]
    assert received["code"] != coupon["code"]
    recipient_id = expect(await gateway.get("/api/v1/auth/me", headers=recipient))["id"]
    assert received["owner_user_id"] == recipient_id

    assert expect(await gateway.get("/api/v1/wallet", headers=sender))["items"] == []
    wallet = expect(await gateway.get("/api/v1/wallet?status=active", headers=recipient))
    assert [c["code"] for c in wallet["items"]] == [received["code"]]
    old = await redeem(scene, coupon["code"])
    assert (old.status_code, old.json()["code"]) == (404, "coupon_not_found")
    redeemed = expect(await redeem(scene, received["code"]))
    assert redeemed["coupon"]["owner_user_id"] == recipient_id

    assert await history_types(scene, received["code"], recipient) == [
        "coupon.claimed",
        "transfer.created",
        "transfer.accepted",
        "coupon.transferred",
        "coupon.redeemed",
    ]


async def test_list_accept_and_both_redeem(gateway: httpx.AsyncClient, scene: Scene) -> None:
    lister = await scene.customer("ines@example.com")
    taker = await scene.customer("jon@example.com")
    listed = await scene.claim(lister)
    offered = await scene.claim(taker)
    listing = expect(
        await gateway.post(
            "/api/v1/exchange/listings",
            json={"coupon_code": listed["code"], "wants": {"merchant_id": scene.merchant["id"]}},
            headers=lister,
        ),
        201,
    )
    market = expect(
        await gateway.get(
            f"/api/v1/exchange/listings?merchant_id={scene.merchant['id']}", headers=taker
        )
    )
    assert [x["id"] for x in market["items"]] == [listing["id"]]
    assert listed["code"] not in str(market)

    swap: dict[str, Any] = expect(
        await gateway.post(
            f"/api/v1/exchange/listings/{listing['id']}/accept",
            json={"offered_coupon_code": offered["code"]},
            headers=taker,
        )
    )
    assert swap["received"]["id"] == listed["id"]
    assert swap["given"]["id"] == offered["id"]
    # The lister finds the offered coupon in their wallet, under a code only they see.
    lister_wallet = expect(await gateway.get("/api/v1/wallet", headers=lister))["items"]
    assert [c["id"] for c in lister_wallet] == [offered["id"]]
    given_code = lister_wallet[0]["code"]
    assert given_code not in (offered["code"], listed["code"], swap["received"]["code"])

    for old in (listed["code"], offered["code"]):
        assert (await redeem(scene, old)).status_code == 404
    expect(await redeem(scene, swap["received"]["code"]))
    expect(await redeem(scene, given_code))
    stats = expect(
        await gateway.get(f"/api/v1/campaigns/{scene.campaign['id']}/stats", headers=scene.owner)
    )
    assert (stats["issued"], stats["redeemed"]) == (2, 2)
    assert stats["by_distributor"] == [
        {"merchant_id": scene.merchant["id"], "issued": 2, "redeemed": 2}
    ]
    assert (await history_types(scene, given_code, lister))[-2:] == [
        "coupon.transferred",
        "coupon.redeemed",
    ]
