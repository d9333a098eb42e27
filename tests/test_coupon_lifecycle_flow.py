"""The platform end to end, through the gateway, as the portals would drive it.

An admin verifies a merchant; the owner adds an outlet and a staff member and publishes a
campaign; a customer claims; the staff member redeems; the coupon's history shows every
step and the campaign's stats count it. Then a partner system redeems through its own
OAuth2 client, and a suspension stops the merchant's coupons at once.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from devstack.api import AuthApi, MerchantsApi, bearer
from devstack.tokens import TestTokens


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class Scene:
    """A verified merchant with an outlet, a staff member and an active campaign."""

    def __init__(self, gateway: httpx.AsyncClient, tokens: TestTokens) -> None:
        self.http = gateway
        self.tokens = tokens
        self.accounts = AuthApi(gateway)
        self.merchants = MerchantsApi(gateway)

    async def set_up(self) -> None:
        http, accounts = self.http, self.accounts
        await accounts.register("owner@bakery.example")
        applicant = await accounts.login("owner@bakery.example", client_id="merchant-portal")
        self.merchant = await self.merchants.apply(applicant["access_token"], name="Bakery")
        await self.merchants.verify(self.tokens.admin(), self.merchant["id"])
        # The owner's next token carries the membership svc-auth granted on verification.
        self.owner = bearer(
            await accounts.login("owner@bakery.example", client_id="merchant-portal")
        )
        mid = self.merchant["id"]
        self.outlet = await self.merchants.create_outlet(self.owner["Authorization"][7:], mid)

        await accounts.register("staff@bakery.example")
        await ok(
            await http.post(
                f"/api/v1/auth/merchants/{mid}/members",
                json={"email": "staff@bakery.example", "role": "staff"},
                headers=self.owner,
            ),
            201,
        )
        self.staff = bearer(
            await accounts.login("staff@bakery.example", client_id="merchant-portal")
        )

        now = datetime.now(UTC)
        campaign = await ok(
            await http.post(
                "/api/v1/campaigns",
                headers=self.owner,
                json={
                    "merchant_id": mid,
                    "title": "Twenty off",
                    "discount_type": "percentage",
                    "discount_value": 20,
                    "total_quantity": 10,
                    "per_customer_limit": 1,
                    "starts_at": (now - timedelta(minutes=1)).isoformat(),
                    "ends_at": (now + timedelta(days=30)).isoformat(),
                    "outlet_ids": [self.outlet["id"]],
                },
            ),
            201,
        )
        assert campaign["status"] == "draft"
        self.campaign = await ok(
            await http.post(f"/api/v1/campaigns/{campaign['id']}/publish", headers=self.owner)
        )
        assert self.campaign["status"] == "active"

    async def customer(self, email: str) -> dict[str, str]:
        await self.accounts.register(email)
        return bearer(await self.accounts.login(email))

    async def claim(self, customer: dict[str, str]) -> dict[str, Any]:
        coupon: dict[str, Any] = await ok(
            await self.http.post(
                f"/api/v1/campaigns/{self.campaign['id']}/claim", headers=customer
            ),
            201,
        )
        return coupon


async def test_claim_redeem_history_and_stats(
    gateway: httpx.AsyncClient, tokens: TestTokens
) -> None:
    scene = Scene(gateway, tokens)
    await scene.set_up()
    customer = await scene.customer("cleo@example.com")
    coupon = await scene.claim(customer)
    code = coupon["code"]
    assert coupon["status"] == "active"

    wallet = await ok(await gateway.get("/api/v1/wallet?status=active", headers=customer))
    assert [c["code"] for c in wallet["items"]] == [code]

    check = await ok(
        await gateway.post(
            f"/api/v1/coupons/{code.lower()}/validate",
            headers=scene.staff,
            json={"outlet_id": scene.outlet["id"], "order_amount": 5000},
        )
    )
    assert (check["valid"], check["discount_amount"]) == (True, 1000)
    redeemed = await ok(
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

    history = await ok(await gateway.get(f"/api/v1/coupons/{code}/history", headers=customer))
    assert [entry["type"] for entry in history] == ["coupon.claimed", "coupon.redeemed"]
    staff_id = (await ok(await gateway.get("/api/v1/auth/me", headers=scene.staff)))["id"]
    customer_id = (await ok(await gateway.get("/api/v1/auth/me", headers=customer)))["id"]
    assert [entry["actor"] for entry in history] == [customer_id, staff_id]

    stats = await ok(
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
    gateway: httpx.AsyncClient, tokens: TestTokens
) -> None:
    scene = Scene(gateway, tokens)
    await scene.set_up()
    partner = await ok(
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
    token = await ok(
        await gateway.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic.decode()}"},
        )
    )
    coupon = await scene.claim(await scene.customer("dora@example.com"))
    redeemed = await ok(
        await gateway.post(
            f"/api/v1/coupons/{coupon['code']}/redeem",
            headers=bearer(token),
            json={"outlet_id": scene.outlet["id"], "order_amount": 1000},
        )
    )
    assert redeemed["discount_amount"] == 200


async def test_a_suspended_merchant_stops_claims_and_redemptions_at_once(
    gateway: httpx.AsyncClient, tokens: TestTokens
) -> None:
    scene = Scene(gateway, tokens)
    await scene.set_up()
    customer = await scene.customer("eve@example.com")
    coupon = await scene.claim(customer)  # the merchant is now in svc-coupons' cache

    await ok(
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
