"""The platform end to end, through the gateway, as the portals would drive it.

An admin verifies a merchant; the owner adds an outlet and a staff member and publishes a
campaign; a customer claims; the staff member redeems; the coupon's history shows every
step and the campaign's stats count it. Then a partner system redeems through its own
OAuth2 client, and a suspension stops the merchant's coupons at once.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import httpx

from devstack.testing.api import bearer
from devstack.testing.api import expect as ok
from devstack.testing.tokens import TestTokens

if TYPE_CHECKING:
    from conftest import Scene


async def test_claim_redeem_history_and_stats(
    gateway: httpx.AsyncClient, tokens: TestTokens, scene: Scene
) -> None:
    customer = await scene.customer("cleo@example.com")
    coupon = await scene.claim(customer)
    code = coupon["code"]
    assert coupon["status"] == "active"

    wallet = ok(await gateway.get("/api/v1/wallet?status=active", headers=customer))
    assert [c["code"] for c in wallet["items"]] == [code]

    check = ok(
        await gateway.post(
            f"/api/v1/coupons/{code.lower()}/validate",
            headers=scene.staff,
            json={"outlet_id": scene.outlet["id"], "order_amount": 5000},
        )
    )
    assert (check["valid"], check["discount_amount"]) == (True, 1000)
    redeemed = ok(
        await gateway.post(
            f"/api/v1/coupons/{code}/redeem",
            headers=scene.staff,
            json={"outlet_id": scene.outlet["id"], "order_amount": 5000, "order_reference": "T-1"},
        )
    )
    assert redeemed["discount_amount"] == 1000
    assert redeemed["coupon"]["status"] == "redeemed"
    again = await gateway.post(
        f"/api/v1/coupons/{code}/redeem",
        headers=scene.staff,
        json={"outlet_id": scene.outlet["id"], "order_amount": 5000},
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_redeemed")

    history = ok(await gateway.get(f"/api/v1/coupons/{code}/history", headers=customer))["items"]
    assert [entry["type"] for entry in history] == ["coupon.claimed", "coupon.redeemed"]
    staff_id = (ok(await gateway.get("/api/v1/auth/me", headers=scene.staff)))["id"]
    customer_id = (ok(await gateway.get("/api/v1/auth/me", headers=customer)))["id"]
    assert [entry["actor"] for entry in history] == [customer_id, staff_id]

    stats = ok(
        await gateway.get(f"/api/v1/campaigns/{scene.campaign['id']}/stats", headers=scene.owner)
    )
    assert (stats["issued"], stats["redeemed"], stats["active"]) == (1, 1, 0)
    assert stats["redemption_rate"] == 1.0
    assert stats["by_outlet"] == [{"outlet_id": scene.outlet["id"], "redeemed": 1}]
    # Staff see the numbers too; a customer does not.
    assert (
        await gateway.get(f"/api/v1/campaigns/{scene.campaign['id']}/stats", headers=scene.staff)
    ).status_code == 200
    assert (
        await gateway.get(f"/api/v1/campaigns/{scene.campaign['id']}/stats", headers=customer)
    ).status_code in (403, 404)


async def test_a_partner_system_redeems_through_its_client(
    gateway: httpx.AsyncClient, tokens: TestTokens, scene: Scene
) -> None:
    partner = ok(
        await gateway.post(
            "/api/v1/auth/clients",
            headers=scene.owner,
            json={
                "name": "Till",
                "merchant_id": scene.merchant["id"],
                "scopes": ["coupons:redeem"],
            },
        ),
        201,
    )
    basic = base64.b64encode(f"{partner['client_id']}:{partner['client_secret']}".encode())
    token = ok(
        await gateway.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic.decode()}"},
        )
    )
    coupon = await scene.claim(await scene.customer("dora@example.com"))
    redeemed = ok(
        await gateway.post(
            f"/api/v1/coupons/{coupon['code']}/redeem",
            headers=bearer(token),
            json={"outlet_id": scene.outlet["id"], "order_amount": 1000},
        )
    )
    assert redeemed["discount_amount"] == 200


async def test_a_suspended_merchant_stops_claims_and_redemptions_at_once(
    gateway: httpx.AsyncClient, tokens: TestTokens, scene: Scene
) -> None:
    customer = await scene.customer("eve@example.com")
    coupon = await scene.claim(customer)  # the merchant is now in svc-coupons' cache

    ok(
        await gateway.post(
            f"/api/v1/merchants/{scene.merchant['id']}/suspend",
            headers=bearer(tokens.admin()),
            json={"reason": "fraud"},
        )
    )

    late = await scene.customer("finn@example.com")
    refused = await gateway.post(f"/api/v1/campaigns/{scene.campaign['id']}/claim", headers=late)
    assert (refused.status_code, refused.json()["code"]) == (409, "merchant_not_verified")
    redeem = await gateway.post(
        f"/api/v1/coupons/{coupon['code']}/redeem",
        headers=scene.staff,
        json={"outlet_id": scene.outlet["id"], "order_amount": 1000},
    )
    assert redeem.status_code == 409
    assert redeem.json()["code"] in ("merchant_not_verified", "campaign_not_active")
