"""Each operation's scope, as its OpenAPI security requirement declares it, is required by
its REST route and its GraphQL field alike, whatever role the caller holds."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4

import httpx

if TYPE_CHECKING:
    from conftest import Headers, World

URL = "/graphql/coupons"
VALIDATE = """
mutation ($code: String!, $outlet: UUID!) {
  validateCoupon(code: $code, outletId: $outlet) { valid reason }
}"""
REDEEM = """
mutation ($code: String!, $outlet: UUID!) {
  redeemCoupon(code: $code, outletId: $outlet) { coupon { status } }
}"""
WALLET = "query { wallet(limit: 5) { items { id } nextCursor } }"
CLAIM = "mutation ($campaignId: UUID!) { claimCoupon(campaignId: $campaignId) { id } }"


async def gql(world: World, query: str, headers: Headers, **variables: Any) -> dict[str, Any]:
    response = await world.http.post(
        URL, json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def same_refusal(rest: httpx.Response, body: dict[str, Any]) -> str:
    """The code REST answered, which GraphQL answered too."""
    assert rest.status_code >= 400, rest.text
    assert body.get("data") is None, body
    code: str = body["errors"][0]["extensions"]["code"]
    assert code == rest.json()["code"], (rest.text, body)
    return code


async def test_an_operation_refuses_a_token_without_its_scope_over_both(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    coupon, _ = await world.coupon(shop)
    outlet = str(shop.outlet_id)
    # The owner's token from a portal that does not redeem: it validates, but redeems nothing.
    owner_without_redeem = world.headers(
        subject=shop.owner_id,
        scope="coupons:read coupons:write",
        memberships=((shop.merchant_id, "owner"),),
    )
    rest = await world.http.post(
        f"/api/v1/coupons/{coupon['code']}/redeem",
        json={"outlet_id": outlet},
        headers=owner_without_redeem,
    )
    graphql = await gql(world, REDEEM, owner_without_redeem, code=coupon["code"], outlet=outlet)
    assert same_refusal(rest, graphql) == "forbidden"
    validated = await gql(world, VALIDATE, owner_without_redeem, code=coupon["code"], outlet=outlet)
    assert validated["data"]["validateCoupon"] == {"valid": True, "reason": None}, validated
    # A customer's token that may only redeem neither reads a wallet nor claims.
    redeem_only = world.headers(subject=uuid4(), scope="coupons:redeem")
    rest = await world.http.get("/api/v1/wallet", headers=redeem_only)
    assert same_refusal(rest, await gql(world, WALLET, redeem_only)) == "forbidden"
    rest = await world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=redeem_only)
    graphql = await gql(world, CLAIM, redeem_only, campaignId=campaign["id"])
    assert same_refusal(rest, graphql) == "forbidden"
    # With the scope, the same owner redeems.
    redeemed = await world.http.post(
        f"/api/v1/coupons/{coupon['code']}/redeem", json={"outlet_id": outlet}, headers=shop.owner
    )
    assert redeemed.status_code == 200, redeemed.text
