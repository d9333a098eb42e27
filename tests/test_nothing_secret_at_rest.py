"""What the databases keep after a day's traffic: no live code outside its coupon, no token,
no client secret, no password, in any table of any service, whatever Idempotency-Key the
callers sent (REST and GraphQL)."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from devstack.testing.api import DEFAULT_PASSWORD, bearer, expect

if TYPE_CHECKING:
    from conftest import Scene

SCHEMAS = ("auth", "merchants", "coupons")
# The one place a live code belongs: its own coupon's row, which lookups and redemptions
# find it by (and a merchant's export of unassigned codes reads).
HOME_OF_CODES = ("coupons", "coupons", "code")
# Idempotency-Keys the traffic sent with requests whose answer holds a claim token.
SECRET_ANSWER_KEYS = ("gift-1", "rotate-1", "gql-rotate-1")


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


async def graphql(
    http: httpx.AsyncClient, headers: dict[str, str], query: str, **variables: Any
) -> dict[str, Any]:
    answer = expect(
        await http.post(
            "/graphql/coupons", json={"query": query, "variables": variables}, headers=headers
        )
    )
    assert "errors" not in answer, answer
    data: dict[str, Any] = answer["data"]
    return data


async def a_days_traffic(gateway: httpx.AsyncClient, scene: Scene) -> set[str]:
    """Customers sign up, claim, gift and accept; an owner makes a partner client, which
    redeems; everything with an Idempotency-Key. The secrets it saw, codes live at its end."""
    secrets: set[str] = {DEFAULT_PASSWORD}
    password = "a password of our own"
    registered = await gateway.post(
        "/api/v1/auth/register",
        json={"email": "keyed@example.com", "password": password, "display_name": "K"},
        headers={"Idempotency-Key": "sign-up-1"},
    )
    expect(registered, 201)
    secrets.add(password)
    signed_in = expect(
        await gateway.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "password",
                "username": "keyed@example.com",
                "password": password,
                "client_id": "customer-portal",
            },
            headers={"Idempotency-Key": "sign-in-1"},
        )
    )
    secrets |= {signed_in["access_token"], signed_in["refresh_token"]}
    sender = bearer(signed_in)
    recipient = await scene.customer("recipient@example.com")
    secrets.add(sender["Authorization"][7:])

    partner = expect(
        await gateway.post(
            "/api/v1/auth/clients",
            headers=keyed(scene.owner, "client-1"),
            json={
                "name": "Till",
                "merchant_id": scene.merchant["id"],
                "scopes": ["coupons:redeem"],
            },
        ),
        201,
    )
    secrets.add(partner["client_secret"])
    basic = base64.b64encode(f"{partner['client_id']}:{partner['client_secret']}".encode())
    till = expect(
        await gateway.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic.decode()}"},
        )
    )
    secrets.add(till["access_token"])

    campaign_path = f"/api/v1/campaigns/{scene.campaign['id']}/claim"
    claimed = expect(await gateway.post(campaign_path, headers=keyed(sender, "claim-1")), 201)
    replayed = expect(await gateway.post(campaign_path, headers=keyed(sender, "claim-1")), 201)
    assert replayed == claimed
    gift = expect(
        await gateway.post(
            f"/api/v1/coupons/{claimed['code']}/transfers", headers=keyed(sender, "gift-1")
        ),
        201,
    )
    secrets.add(gift["claim_token"])
    # A link shared with the wrong person: new tokens, REST then GraphQL, keyed.
    rotated = expect(
        await gateway.post(
            f"/api/v1/transfers/{gift['id']}/claim-token",
            headers=keyed(sender, "rotate-1"),
        )
    )
    secrets.add(rotated["claim_token"])
    rotated_again = await graphql(
        gateway,
        keyed(sender, "gql-rotate-1"),
        "mutation ($id: UUID!) { rotateClaimToken(id: $id) { claimToken } }",
        id=gift["id"],
    )
    latest_token = rotated_again["rotateClaimToken"]["claimToken"]
    secrets.add(latest_token)
    accepted = expect(
        await gateway.post(
            f"/api/v1/transfers/{gift['id']}/accept",
            json={"claim_token": latest_token},
            headers=keyed(recipient, "accept-1"),
        )
    )
    # The recipient holds the one coupon a customer may from this campaign: a third claims.
    claimer = await scene.customer("claimer@example.com")
    by_graphql = await graphql(
        gateway,
        keyed(claimer, "gql-claim-1"),
        "mutation ($id: UUID!) { claimCoupon(campaignId: $id) { code } }",
        id=scene.campaign["id"],
    )
    expect(
        await gateway.post(
            f"/api/v1/coupons/{by_graphql['claimCoupon']['code']}/redeem",
            headers=keyed(bearer(till), "till-1"),
            json={"outlet_id": scene.outlet["id"], "order_amount": 5000},
        )
    )
    live = expect(await gateway.get("/api/v1/wallet?status=active", headers=recipient))
    assert accepted["code"] in [coupon["code"] for coupon in live["items"]]
    return secrets | {coupon["code"] for coupon in live["items"]}


async def everything_kept(connection: AsyncConnection) -> dict[tuple[str, str, str], list[str]]:
    """Every column of every table of every service's schema, as text; bytes decoded."""
    columns = await connection.execute(
        text(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
            " JOIN information_schema.tables USING (table_schema, table_name)"
            " WHERE table_schema = ANY(:schemas) AND table_type = 'BASE TABLE'"
        ),
        {"schemas": list(SCHEMAS)},
    )
    kept: dict[tuple[str, str, str], list[str]] = {}
    for schema, table, column in columns:
        # Names read from the catalog, not from a caller.
        query = f'SELECT "{column}" FROM "{schema}"."{table}"'  # noqa: S608
        values = await connection.scalars(text(query))
        kept[(schema, table, column)] = [
            value.decode("latin-1") if isinstance(value, bytes) else str(value)
            for value in values
            if value is not None
        ]
    return kept


async def test_no_table_keeps_a_live_code_token_secret_or_password(
    gateway: httpx.AsyncClient, scene: Scene, connection: AsyncConnection
) -> None:
    secrets = await a_days_traffic(gateway, scene)
    kept = await everything_kept(connection)
    assert ("coupons", "idempotency_keys", "response_body") in kept  # the walk saw them
    found = {
        (place, secret)
        for place, values in kept.items()
        for secret in secrets
        for value in values
        if secret in value and not (place == HOME_OF_CODES and value == secret)
    }
    assert found == set()
    # An answer holding a token is not kept at all, not even sealed.
    keys = kept[("coupons", "idempotency_keys", "key")]
    assert set(SECRET_ANSWER_KEYS).isdisjoint(keys), keys
