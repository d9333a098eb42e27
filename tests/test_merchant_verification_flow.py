"""Across services: an admin verifies a merchant in svc-merchants, svc-auth hears of it, and
the applicant's next token names them the merchant's owner.

The platform runs behind the local gateway (tests/conftest.py).
"""

from __future__ import annotations

from typing import Any

import httpx
import jwt

from devstack.testing.api import AuthApi, MerchantsApi, bearer
from devstack.testing.tokens import TestTokens


async def test_verification_makes_the_applicant_the_owner(
    gateway: httpx.AsyncClient, tokens: TestTokens
) -> None:
    accounts = AuthApi(gateway)
    merchants = MerchantsApi(gateway)
    user = await accounts.register("baker@example.com")
    before = await accounts.login("baker@example.com", client_id="merchant-portal")
    merchant = await merchants.apply(before["access_token"], name="Baker's Dozen")
    assert merchant["owner_user_id"] == user["id"]

    await merchants.verify(tokens.admin(), merchant["id"])

    after = await accounts.login("baker@example.com", client_id="merchant-portal")
    claims = await _claims(gateway, after["access_token"])
    assert claims["sub"] == user["id"]
    assert {"merchant_id": merchant["id"], "role": "owner"} in claims["memberships"]
    me = await gateway.get("/api/v1/auth/me", headers=bearer(after))
    assert me.status_code == 200
    assert me.json()["memberships"] == [{"merchant_id": merchant["id"], "role": "owner"}]

    # The new token is the owner's in svc-merchants too: outlets may now be added.
    outlet = await merchants.create_outlet(after["access_token"], merchant["id"])
    assert outlet["merchant_id"] == merchant["id"]
    stale = await gateway.post(
        f"/api/v1/merchants/{merchant['id']}/outlets",
        json={"name": "Old token", "address": "Nowhere 1"},
        headers=bearer(before),
    )
    assert stale.status_code == 403


async def _claims(gateway: httpx.AsyncClient, access_token: str) -> dict[str, Any]:
    """The token's claims, checked against svc-auth's published keys like any service does."""
    jwks = (await gateway.get("/.well-known/jwks.json")).json()
    header = jwt.get_unverified_header(access_token)
    [key] = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    claims: dict[str, Any] = jwt.decode(
        access_token,
        jwt.PyJWK(key).key,
        algorithms=["RS256"],
        audience="coupon-platform",
    )
    return claims
