"""The swap marketplace over HTTP: list, browse without codes, accept (both coupons change
hands under new codes), cancel, and every refusal changing nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from conftest import Headers, Shop, World


async def list_coupon(world: World, code: str, headers: Headers, **wants: str) -> Any:
    return await world.http.post(
        "/api/v1/exchange/listings", json={"coupon_code": code, "wants": wants}, headers=headers
    )


async def accept(world: World, listing_id: str, code: str, headers: Headers) -> Any:
    return await world.http.post(
        f"/api/v1/exchange/listings/{listing_id}/accept",
        json={"offered_coupon_code": code},
        headers=headers,
    )


async def owner_and_code(connection: AsyncConnection, coupon_id: str) -> tuple[str, str, str]:
    row = (
        await connection.execute(
            text("SELECT owner_user_id, code, status FROM coupons.coupons WHERE id = :id"),
            {"id": coupon_id},
        )
    ).one()
    return str(row.owner_user_id), row.code, row.status


async def two_customers(world: World, shop: Shop) -> tuple[Any, Headers, Any, Headers, Any]:
    """A listed coupon and its owner, and another customer with a coupon of another campaign."""
    listed, lister = await world.coupon(shop)
    other_campaign = await world.campaign(shop, title="Free coffee")
    _, taker = world.customer()
    offered = await world.claim(other_campaign, taker)
    return listed, lister, offered, taker, other_campaign


async def test_a_swap_moves_both_coupons_under_new_codes(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    listed, lister, offered, taker, other_campaign = await two_customers(world, shop)
    response = await list_coupon(world, listed["code"], lister, campaign_id=other_campaign["id"])
    assert response.status_code == 201, response.text
    listing = response.json()
    assert listing["status"] == "open"
    assert listing["wants"] == {"campaign_id": other_campaign["id"], "merchant_id": None}
    assert "code" not in listing["coupon"]
    assert listing["coupon"]["status"] == "reserved"
    browse = await world.http.get(
        f"/api/v1/exchange/listings?campaign_id={listed['campaign_id']}", headers=taker
    )
    assert [x["id"] for x in browse.json()["items"]] == [listing["id"]]
    assert listed["code"] not in browse.text

    response = await accept(world, listing["id"], offered["code"], taker)
    assert response.status_code == 200, response.text
    swap = response.json()
    assert swap["received"]["id"] == listed["id"]
    assert swap["received"]["code"] not in (listed["code"], offered["code"])
    assert swap["given"]["id"] == offered["id"]
    assert "code" not in swap["given"]
    assert swap["listing"]["status"] == "accepted"
    lister_id = listed["owner_user_id"]
    taker_id = offered["owner_user_id"]
    assert await owner_and_code(connection, listed["id"]) == (
        taker_id,
        swap["received"]["code"],
        "active",
    )
    given_owner, given_code, given_status = await owner_and_code(connection, offered["id"])
    assert (given_owner, given_status) == (lister_id, "active")
    assert given_code not in (offered["code"], listed["code"], swap["received"]["code"])
    for old in (listed["code"], offered["code"]):
        for headers in (lister, taker, shop.owner):
            gone = await world.http.get(f"/api/v1/coupons/{old}", headers=headers)
            assert gone.status_code == 404
    # Both redeem what they now hold.
    assert (await world.redeem(shop, swap["received"]["code"])).status_code == 200
    assert (await world.redeem(shop, given_code)).status_code == 200
    # The listing is no longer on the marketplace; its owner still sees it.
    browse = await world.http.get("/api/v1/exchange/listings", headers=taker)
    assert listing["id"] not in {x["id"] for x in browse.json()["items"]}
    mine = await world.http.get("/api/v1/exchange/listings?mine=true", headers=lister)
    assert [x["status"] for x in mine.json()["items"]] == ["accepted"]
    events = await connection.execute(
        text(
            "SELECT entity_id, type, data::text AS data FROM coupons.outbox"
            " WHERE entity_id IN (:a, :b) ORDER BY occurred_at"
        ),
        {"a": listed["id"], "b": offered["id"]},
    )
    seen = [(r.entity_id, r.type, r.data) for r in events]
    assert [(e, t) for e, t, _ in seen if t != "coupon.claimed" and t != "coupon.redeemed"] == [
        (listed["id"], "listing.created"),
        (listed["id"], "listing.accepted"),
        (listed["id"], "coupon.transferred"),
        (offered["id"], "coupon.transferred"),
    ]
    for _, _, data in seen:
        for code in (listed["code"], offered["code"], swap["received"]["code"], given_code):
            assert code not in data


async def test_offers_that_do_not_fit_are_refused_and_change_nothing(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    listed, lister, offered, taker, other_campaign = await two_customers(world, shop)
    listing = (
        await list_coupon(world, listed["code"], lister, campaign_id=other_campaign["id"])
    ).json()
    wrong_campaign, _ = await world.coupon(shop, title="Something else")
    untradable = await world.claim(await world.campaign(shop, tradable=False), taker)
    mismatch = await world.claim(await world.campaign(shop, title="Not wanted"), taker)
    someone_elses, _ = await world.coupon(shop)
    cases = [
        (listed["code"], lister, 409, "own_listing"),
        (someone_elses["code"], taker, 404, "coupon_not_found"),
        (untradable["code"], taker, 409, "not_tradable"),
        (mismatch["code"], taker, 409, "offer_mismatch"),
        (wrong_campaign["code"], taker, 404, "coupon_not_found"),
    ]
    for code, headers, status, error in cases:
        response = await accept(world, listing["id"], code, headers)
        assert (response.status_code, response.json()["code"]) == (status, error), response.text
    assert await owner_and_code(connection, listed["id"]) == (
        listed["owner_user_id"],
        listed["code"],
        "reserved",
    )
    assert await owner_and_code(connection, offered["id"]) == (
        offered["owner_user_id"],
        offered["code"],
        "active",
    )
    # A redeemed offer is refused by its status.
    await connection.execute(
        text("UPDATE coupons.coupons SET status = 'redeemed' WHERE id = :id"), {"id": offered["id"]}
    )
    response = await accept(world, listing["id"], offered["code"], taker)
    assert (response.status_code, response.json()["code"]) == (409, "already_redeemed")


async def test_listing_rules(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop, tradable=False)
    response = await list_coupon(world, coupon["code"], owner)
    assert (response.status_code, response.json()["code"]) == (409, "not_tradable")
    coupon, owner = await world.coupon(shop)
    response = await list_coupon(world, coupon["code"], owner, campaign_id=str(shop.merchant_id))
    assert (response.status_code, response.json()["code"]) == (422, "invalid_wants")
    assert (await list_coupon(world, coupon["code"], world.customer()[1])).status_code == 404
    listing = (await list_coupon(world, coupon["code"], owner)).json()
    assert listing["wants"] == {"campaign_id": None, "merchant_id": None}
    again = await list_coupon(world, coupon["code"], owner)
    assert (again.status_code, again.json()["code"]) == (409, "coupon_locked")
    # An expired coupon's listing is not open.
    await connection.execute(
        text("UPDATE coupons.coupons SET expires_at = now() - interval '1 second' WHERE id = :id"),
        {"id": coupon["id"]},
    )
    browse = await world.http.get("/api/v1/exchange/listings", headers=world.customer()[1])
    assert listing["id"] not in {x["id"] for x in browse.json()["items"]}
    seen = await world.http.get(f"/api/v1/exchange/listings/{listing['id']}", headers=owner)
    assert seen.json()["status"] == "expired"
    taker_coupon, taker = await world.coupon(shop)
    late = await accept(world, listing["id"], taker_coupon["code"], taker)
    assert (late.status_code, late.json()["code"]) == (409, "listing_closed")


async def test_the_owner_cancels(world: World) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    listing = (await list_coupon(world, coupon["code"], owner)).json()
    stranger = world.customer()[1]
    response = await world.http.post(
        f"/api/v1/exchange/listings/{listing['id']}/cancel", headers=stranger
    )
    assert (response.status_code, response.json()["code"]) == (404, "listing_not_found")
    response = await world.http.post(
        f"/api/v1/exchange/listings/{listing['id']}/cancel", headers=owner
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["code"]) == ("active", coupon["code"])
    offer, taker = await world.coupon(shop)
    late = await accept(world, listing["id"], offer["code"], taker)
    assert (late.status_code, late.json()["code"]) == (409, "listing_closed")
    hidden = await world.http.get(f"/api/v1/exchange/listings/{listing['id']}", headers=taker)
    assert hidden.status_code == 404


async def test_the_marketplace_pages_and_filters(world: World) -> None:
    shop, other_shop = world.shop(), world.shop()
    ids = []
    for merchant in (shop, shop, other_shop):
        coupon, owner = await world.coupon(merchant)
        ids.append((await list_coupon(world, coupon["code"], owner)).json()["id"])
    viewer = world.customer()[1]
    page = await world.http.get(
        f"/api/v1/exchange/listings?merchant_id={shop.merchant_id}&limit=1", headers=viewer
    )
    body = page.json()
    assert [x["id"] for x in body["items"]] == [ids[1]]
    rest = await world.http.get(
        f"/api/v1/exchange/listings?merchant_id={shop.merchant_id}&cursor={body['next_cursor']}",
        headers=viewer,
    )
    assert [x["id"] for x in rest.json()["items"]] == [ids[0]]
    assert rest.json()["next_cursor"] is None
    assert (await world.http.get("/api/v1/exchange/listings")).status_code == 401
