"""A code typed with look-alike letters is not the code: U+017F (long s) is no S, U+FB00
(the ff ligature) no FF, through REST and GraphQL alike."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from conftest import World

LONG_S, FF = "\u017f", "\ufb00"


def look_alike(code: str) -> str:
    """`code` as Unicode's upper-casing would take it back: every S long, every FF tied."""
    return code.replace("FF", FF).replace("S", LONG_S)


async def recode(connection: AsyncConnection, code: str, new: str) -> str:
    """Gives the coupon of `code` a code of S and F, which look-alikes could stand for."""
    await connection.execute(
        text("UPDATE coupons.coupons SET code = :new WHERE code = :code"),
        {"code": code, "new": new},
    )
    return new


async def test_look_alikes_claim_no_code(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/codes", json={"count": 1}, headers=shop.owner
    )
    listed = await world.http.get(f"/api/v1/campaigns/{campaign['id']}/codes", headers=shop.owner)
    code = await recode(connection, listed.json()["items"][0]["code"], "SSFF2345SSFF")
    _, customer = world.customer()
    for typed in (look_alike(code), code.replace("S", LONG_S), code.replace("FF", FF)):
        refused = await world.http.post(
            "/api/v1/coupons/claim", json={"code": typed}, headers=customer
        )
        assert refused.status_code == 404, typed
        assert refused.json()["code"] == "code_not_found"
    claimed = await world.http.post(
        "/api/v1/coupons/claim", json={"code": code.lower()}, headers=customer
    )
    assert claimed.status_code == 201, claimed.text
    assert claimed.json()["code"] == code


async def test_look_alikes_find_no_coupon(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    coupon, customer = await world.coupon(shop)
    code = await recode(connection, coupon["code"], "FFSS2345FFSS")

    looked_up = await world.http.get(f"/api/v1/coupons/{look_alike(code)}", headers=customer)
    assert looked_up.status_code == 404
    assert looked_up.json()["code"] == "coupon_not_found"
    assert (await world.http.get(f"/api/v1/coupons/{code.lower()}", headers=customer)).json()[
        "id"
    ] == coupon["id"]

    async def gql(query: str, **variables: Any) -> dict[str, Any]:
        answer = await world.http.post(
            "/graphql/coupons", json={"query": query, "variables": variables}, headers=customer
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    lookup = "query ($code: String!) { coupon(code: $code) { id } }"
    refused = await gql(lookup, code=look_alike(code))
    assert refused["errors"][0]["extensions"]["code"] == "coupon_not_found"
    given = await gql(
        "mutation ($code: String!) { giveCoupon(code: $code) { claimToken } }",
        code=look_alike(code),
    )
    assert given["errors"][0]["extensions"]["code"] == "coupon_not_found"
    assert (await gql(lookup, code=code.lower()))["data"]["coupon"]["id"] == coupon["id"]
