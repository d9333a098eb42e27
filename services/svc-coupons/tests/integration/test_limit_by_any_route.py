"""`per_customer_limit` bounds what a customer receives from a campaign by any route: claim,
code, issue, and a gift or a swap accepted. An accept past it is 409 `limit_reached` and
changes nothing (the gift stays pending, the listing open), REST and GraphQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from conftest import Headers, World

GQL = "/graphql/coupons"
ACCEPT_TRANSFER = """
mutation ($id: UUID!, $token: String!) { acceptTransfer(id: $id, claimToken: $token) { id } }"""
ACCEPT_LISTING = """
mutation ($id: UUID!, $code: String!) {
  acceptListing(id: $id, offeredCouponCode: $code) { received { id } }
}"""


async def post(world: World, path: str, headers: Headers, **body: Any) -> Any:
    return await world.http.post(path, json=body or None, headers=headers)


async def refusal(world: World, api: str, rest: tuple[str, dict[str, Any]], gql: Any) -> str:
    """The error code of one accept, asked through REST or GraphQL."""
    headers: Headers = gql[2]
    if api == "rest":
        path, body = rest
        response = await post(world, path, headers, **body)
        assert response.status_code == 409, response.text
        code: str = response.json()["code"]
        return code
    query, variables = gql[0], gql[1]
    response = await world.http.post(
        GQL, json={"query": query, "variables": variables}, headers=headers
    )
    answer = response.json()
    assert answer["data"] is None, answer
    code = answer["errors"][0]["extensions"]["code"]
    return code


async def owner_and_status(connection: AsyncConnection, coupon_id: str) -> tuple[str, str]:
    row = (
        await connection.execute(
            text("SELECT owner_user_id::text, status FROM coupons.coupons WHERE id = :id"),
            {"id": coupon_id},
        )
    ).one()
    return row[0], row[1]


@pytest.mark.parametrize("api", ["rest", "graphql"])
async def test_a_gift_past_the_limit_is_refused_and_stays_pending(
    world: World, connection: AsyncConnection, api: str
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=1)
    _, collector = world.customer()
    await world.claim(campaign, collector)
    # Another account claims one and gives it to the collector, who holds one already.
    _, mule = world.customer()
    coupon = await world.claim(campaign, mule)
    gift = (await post(world, f"/api/v1/coupons/{coupon['code']}/transfers", mule)).json()
    code = await refusal(
        world,
        api,
        (f"/api/v1/transfers/{gift['id']}/accept", {"claim_token": gift["claim_token"]}),
        (ACCEPT_TRANSFER, {"id": gift["id"], "token": gift["claim_token"]}, collector),
    )
    assert code == "limit_reached"
    assert await owner_and_status(connection, coupon["id"]) == (coupon["owner_user_id"], "reserved")
    seen = await world.http.get(f"/api/v1/transfers/{gift['id']}", headers=mule)
    assert seen.json()["status"] == "pending"
    # Someone under the limit still takes it.
    _, friend = world.customer()
    taken = await post(
        world,
        f"/api/v1/transfers/{gift['id']}/accept",
        friend,
        claim_token=gift["claim_token"],
    )
    assert taken.status_code == 200, taken.text


async def test_a_gift_received_counts_against_a_later_claim(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=1)
    _, giver = world.customer()
    coupon = await world.claim(campaign, giver)
    gift = (await post(world, f"/api/v1/coupons/{coupon['code']}/transfers", giver)).json()
    _, friend = world.customer()
    taken = await post(
        world,
        f"/api/v1/transfers/{gift['id']}/accept",
        friend,
        claim_token=gift["claim_token"],
    )
    assert taken.status_code == 200, taken.text
    claim = await post(world, f"/api/v1/campaigns/{campaign['id']}/claim", friend)
    assert (claim.status_code, claim.json()["code"]) == (409, "limit_reached")


@pytest.mark.parametrize("api", ["rest", "graphql"])
@pytest.mark.parametrize("side", ["taker", "lister"])
async def test_a_swap_past_either_sides_limit_is_refused_and_changes_nothing(
    world: World, connection: AsyncConnection, api: str, side: str
) -> None:
    shop = world.shop()
    listed_campaign = await world.campaign(shop, per_customer_limit=1, title="Listed")
    offered_campaign = await world.campaign(shop, per_customer_limit=1, title="Offered")
    _, lister = world.customer()
    _, taker = world.customer()
    listed = await world.claim(listed_campaign, lister)
    offered = await world.claim(offered_campaign, taker)
    listing = (
        await post(world, "/api/v1/exchange/listings", lister, coupon_code=listed["code"])
    ).json()
    # The side at its limit already holds one of what it would receive.
    if side == "taker":
        await world.claim(listed_campaign, taker)
    else:
        await world.claim(offered_campaign, lister)
    code = await refusal(
        world,
        api,
        (
            f"/api/v1/exchange/listings/{listing['id']}/accept",
            {"offered_coupon_code": offered["code"]},
        ),
        (ACCEPT_LISTING, {"id": listing["id"], "code": offered["code"]}, taker),
    )
    assert code == "limit_reached"
    assert await owner_and_status(connection, listed["id"]) == (listed["owner_user_id"], "reserved")
    assert await owner_and_status(connection, offered["id"]) == (offered["owner_user_id"], "active")
    still = await world.http.get(f"/api/v1/exchange/listings/{listing['id']}", headers=lister)
    assert still.json()["status"] == "open"
    counted = await connection.execute(
        text(
            "SELECT campaign_id::text, claimed FROM coupons.customer_claims"
            " WHERE campaign_id IN (:a, :b) ORDER BY claimed"
        ),
        {"a": listed_campaign["id"], "b": offered_campaign["id"]},
    )
    # Nothing was counted for the refused swap: the three claims, one each.
    assert sorted(row.claimed for row in counted) == [1, 1, 1]


async def test_a_swap_within_the_limits_counts_for_both(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    listed_campaign = await world.campaign(shop, per_customer_limit=1, title="Listed")
    offered_campaign = await world.campaign(shop, per_customer_limit=1, title="Offered")
    _, lister = world.customer()
    _, taker = world.customer()
    listed = await world.claim(listed_campaign, lister)
    offered = await world.claim(offered_campaign, taker)
    listing = (
        await post(world, "/api/v1/exchange/listings", lister, coupon_code=listed["code"])
    ).json()
    swapped = await post(
        world,
        f"/api/v1/exchange/listings/{listing['id']}/accept",
        taker,
        offered_coupon_code=offered["code"],
    )
    assert swapped.status_code == 200, swapped.text
    # Each now holds what the other claimed: neither may claim that campaign again.
    for campaign, headers in ((listed_campaign, taker), (offered_campaign, lister)):
        claim = await post(world, f"/api/v1/campaigns/{campaign['id']}/claim", headers)
        assert (claim.status_code, claim.json()["code"]) == (409, "limit_reached")


async def test_a_swap_within_one_campaign_counts_for_neither(
    world: World, connection: AsyncConnection
) -> None:
    # Both at the limit of 1 already; swapping leaves each holding one, as before.
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=1)
    _, lister = world.customer()
    _, taker = world.customer()
    listed = await world.claim(campaign, lister)
    offered = await world.claim(campaign, taker)
    listing = (
        await post(world, "/api/v1/exchange/listings", lister, coupon_code=listed["code"])
    ).json()
    swapped = await post(
        world,
        f"/api/v1/exchange/listings/{listing['id']}/accept",
        taker,
        offered_coupon_code=offered["code"],
    )
    assert swapped.status_code == 200, swapped.text
    counted = await connection.execute(
        text("SELECT claimed FROM coupons.customer_claims WHERE campaign_id = :id"),
        {"id": campaign["id"]},
    )
    assert sorted(row.claimed for row in counted) == [1, 1]
