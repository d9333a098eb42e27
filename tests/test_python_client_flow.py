"""The generated Python client (clients/python) drives a coupon's life through the gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from devstack.testing.api import DEFAULT_PASSWORD
from devstack.testing.tokens import TestTokens
from platform_client import PlatformClient, ProblemError


async def account(api: PlatformClient, email: str, client_id: str) -> PlatformClient:
    user = await api.auth.register_user(
        {"email": email, "password": DEFAULT_PASSWORD, "display_name": email.split("@")[0]}
    )
    assert user["roles"] == ["customer"]
    return await api.sign_in(email, DEFAULT_PASSWORD, client_id)


async def test_claim_and_redeem_with_the_generated_client(
    gateway: httpx.AsyncClient, tokens: TestTokens
) -> None:
    api = PlatformClient(gateway)
    applicant = await account(api, "owner@roastery.example", "merchant-portal")
    merchant = await applicant.merchants.apply_for_merchant(
        {"name": "Roastery", "country": "NL", "currency": "EUR", "timezone": "Europe/Amsterdam"}
    )
    verified = await api.as_caller(tokens.admin()).merchants.verify_merchant(merchant["id"])
    assert verified["status"] == "verified"

    owner = await api.sign_in("owner@roastery.example", DEFAULT_PASSWORD, "merchant-portal")
    outlet = await owner.merchants.create_outlet(
        merchant["id"], {"name": "Canal side", "address": "Prinsengracht 1, Amsterdam"}
    )
    now = datetime.now(UTC)
    campaign = await owner.coupons.create_campaign(
        {
            "merchant_id": merchant["id"],
            "title": "Free pastry with any coffee",
            "discount_type": "fixed_amount",
            "discount_value": 350,
            "currency": "EUR",
            "starts_at": (now - timedelta(minutes=1)).isoformat(),
            "ends_at": (now + timedelta(days=7)).isoformat(),
        },
        idempotency_key="campaign-1",
    )
    await owner.coupons.publish_campaign(campaign["id"])

    customer = await account(api, "ada@customers.example", "customer-portal")
    coupon = await customer.coupons.claim_coupon(campaign["id"])
    wallet = await customer.coupons.list_wallet(status="active")
    assert [c["id"] for c in wallet["items"]] == [coupon["id"]]

    receipt = await owner.coupons.redeem_coupon(
        coupon["code"], {"outlet_id": outlet["id"], "order_amount": 900}
    )
    assert receipt["discount_amount"] == 350
    assert receipt["coupon"]["status"] == "redeemed"

    with pytest.raises(ProblemError) as refused:
        await owner.coupons.redeem_coupon(coupon["code"], {"outlet_id": outlet["id"]})
    assert (refused.value.status, refused.value.code) == (409, "already_redeemed")


async def test_token_endpoint_errors_keep_their_rfc_6749_code(gateway: httpx.AsyncClient) -> None:
    with pytest.raises(ProblemError) as refused:
        await PlatformClient(gateway).sign_in(
            "nobody@example.com", "wrong password", "customer-portal"
        )
    assert (refused.value.status, refused.value.code) == (400, "invalid_grant")
