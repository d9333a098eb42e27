"""Every route to one object, walked by callers who are not its party: the coupon's merchant's
partner client (a token without a user), its merchant's staff, and a stranger customer.
None of them may read or change a customer's transfer, listing or coupon; a client token's
missing user id must never equal a pending gift's missing recipient."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import uuid4

if TYPE_CHECKING:
    from conftest import Headers, Shop, World

GQL = "/graphql/coupons"
TRANSFER = "query ($id: UUID!) { transfer(id: $id) { id status } }"
LISTING = "query ($id: UUID!) { listing(id: $id) { id status } }"
COUPON = "query ($code: String!) { coupon(code: $code) { id } }"
WALLET = "query { wallet { items { id } } }"
TRANSFERS = "query { transfers { items { id } } }"
MY_LISTINGS = "query { listings(mine: true) { items { id } } }"
CANCEL_TRANSFER = "mutation ($id: UUID!) { cancelTransfer(id: $id) { id } }"
CANCEL_LISTING = "mutation ($id: UUID!) { cancelListing(id: $id) { id } }"
GIVE = "mutation ($code: String!) { giveCoupon(code: $code) { claimToken } }"
LIST = "mutation ($code: String!) { createListing(couponCode: $code) { id } }"


@dataclass
class Objects:
    """One of each object a customer has, in the states where a party's id is still unknown
    (a pending gift has no recipient, a cancelled listing no taker)."""

    shop: Shop
    owner: Headers
    code: str
    pending_transfer: str
    cancelled_transfer: str
    accepted_transfer: str
    cancelled_listing: str
    accepted_listing: str


async def _objects(world: World) -> Objects:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=10)
    _, owner = world.customer()
    _, friend = world.customer()
    coupons = [await world.claim(campaign, owner) for _ in range(6)]

    async def post(path: str, headers: Headers, **body: Any) -> dict[str, Any]:
        response = await world.http.post(path, json=body or None, headers=headers)
        assert response.status_code in (200, 201), response.text
        answer: dict[str, Any] = response.json()
        return answer

    pending = await post(f"/api/v1/coupons/{coupons[0]['code']}/transfers", owner)
    cancelled = await post(f"/api/v1/coupons/{coupons[1]['code']}/transfers", owner)
    await post(f"/api/v1/transfers/{cancelled['id']}/cancel", owner)
    accepted = await post(f"/api/v1/coupons/{coupons[2]['code']}/transfers", owner)
    await post(
        f"/api/v1/transfers/{accepted['id']}/accept",
        friend,
        claim_token=accepted["claim_token"],
    )
    listing = await post("/api/v1/exchange/listings", owner, coupon_code=coupons[3]["code"])
    await post(f"/api/v1/exchange/listings/{listing['id']}/cancel", owner)
    swapped = await post("/api/v1/exchange/listings", owner, coupon_code=coupons[4]["code"])
    offered = await world.claim(campaign, friend)
    await post(
        f"/api/v1/exchange/listings/{swapped['id']}/accept",
        friend,
        offered_coupon_code=offered["code"],
    )
    return Objects(
        shop=shop,
        owner=owner,
        code=coupons[5]["code"],
        pending_transfer=pending["id"],
        cancelled_transfer=cancelled["id"],
        accepted_transfer=accepted["id"],
        cancelled_listing=listing["id"],
        accepted_listing=swapped["id"],
    )


def _outsiders(world: World, shop: Shop) -> dict[str, Headers]:
    return {"partner": shop.partner, "staff": shop.staff, "stranger": world.customer()[1]}


async def _rest(world: World, method: str, path: str, headers: Headers, **body: Any) -> int:
    response = await world.http.request(method, path, json=body or None, headers=headers)
    return response.status_code


async def _gql(world: World, query: str, headers: Headers, **variables: Any) -> Any:
    response = await world.http.post(
        GQL, json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def _refused_with(body: dict[str, Any]) -> int:
    assert body["data"] is None, body
    status: int = body["errors"][0]["extensions"]["status"]
    return status


async def test_no_outsider_reaches_a_customers_transfers_listings_or_coupons(
    world: World,
) -> None:
    objects = await _objects(world)
    transfers = (
        objects.pending_transfer,
        objects.cancelled_transfer,
        objects.accepted_transfer,
    )
    listings = (objects.cancelled_listing, objects.accepted_listing)
    for who, headers in _outsiders(world, objects.shop).items():
        # A client token holds nothing and is no customer: 403 where a customer is needed.
        customer_only = 403 if who == "partner" else None
        seen: dict[str, int] = {}
        for transfer_id in transfers:
            seen[f"GET transfer {transfer_id}"] = await _rest(
                world, "GET", f"/api/v1/transfers/{transfer_id}", headers
            )
            seen[f"gql transfer {transfer_id}"] = _refused_with(
                await _gql(world, TRANSFER, headers, id=transfer_id)
            )
            seen[f"cancel transfer {transfer_id}"] = await _rest(
                world, "POST", f"/api/v1/transfers/{transfer_id}/cancel", headers
            )
            seen[f"gql cancel transfer {transfer_id}"] = _refused_with(
                await _gql(world, CANCEL_TRANSFER, headers, id=transfer_id)
            )
        for listing_id in listings:
            seen[f"GET listing {listing_id}"] = await _rest(
                world, "GET", f"/api/v1/exchange/listings/{listing_id}", headers
            )
            seen[f"gql listing {listing_id}"] = _refused_with(
                await _gql(world, LISTING, headers, id=listing_id)
            )
            seen[f"cancel listing {listing_id}"] = await _rest(
                world, "POST", f"/api/v1/exchange/listings/{listing_id}/cancel", headers
            )
            seen[f"gql cancel listing {listing_id}"] = _refused_with(
                await _gql(world, CANCEL_LISTING, headers, id=listing_id)
            )
        # The partner's token lacks coupons:write: its cancels are refused for the scope
        # before any object is looked at (a transfer that does not exist gets the same 403),
        # so that refusal tells nothing either; everything else is 404.
        write_refused = 403 if who == "partner" else 404
        expected = {key: write_refused if "cancel" in key else 404 for key in seen}
        assert seen == expected, who
        nowhere = await _rest(world, "POST", f"/api/v1/transfers/{uuid4()}/cancel", headers)
        assert nowhere == write_refused, who

        # The coupon itself: its merchant's staff reads it (a merchant member); a partner
        # client and a stranger may not know it exists. Giving or listing it is its owner's:
        # its merchant's people (partner included) get 403, anyone else 404.
        reader = 200 if who == "staff" else 404
        lookup = await _rest(world, "GET", f"/api/v1/coupons/{objects.code}", headers)
        history = await _rest(world, "GET", f"/api/v1/coupons/{objects.code}/history", headers)
        assert (lookup, history) == (reader, reader), who
        gql_lookup = await _gql(world, COUPON, headers, code=objects.code)
        if reader == 200:
            assert gql_lookup["data"]["coupon"] is not None
        else:
            assert _refused_with(gql_lookup) == 404, who
        mover = 404 if who == "stranger" else 403
        give = await _rest(world, "POST", f"/api/v1/coupons/{objects.code}/transfers", headers)
        listed = await _rest(
            world, "POST", "/api/v1/exchange/listings", headers, coupon_code=objects.code
        )
        assert (give, listed) == (mover, mover), who
        assert _refused_with(await _gql(world, GIVE, headers, code=objects.code)) == mover
        assert _refused_with(await _gql(world, LIST, headers, code=objects.code)) == mover

        # Accepting a gift needs its token (and a customer).
        accept = await world.http.post(
            f"/api/v1/transfers/{objects.pending_transfer}/accept",
            json={"claim_token": "not-the-token"},
            headers=headers,
        )
        assert accept.status_code == 403, who
        if customer_only is None:
            assert accept.json()["code"] == "invalid_claim_token"

        # Own lists: a client token has none (403); anyone else sees only their own.
        for path, query, key in (
            ("/api/v1/wallet", WALLET, "wallet"),
            ("/api/v1/transfers", TRANSFERS, "transfers"),
            ("/api/v1/exchange/listings?mine=true", MY_LISTINGS, "listings"),
        ):
            response = await world.http.get(path, headers=headers)
            answer = await _gql(world, query, headers)
            if customer_only is not None:
                assert response.status_code == customer_only, (who, path)
                assert _refused_with(answer) == customer_only, (who, path)
            else:
                assert response.json()["items"] == [], (who, path)
                assert answer["data"][key]["items"] == [], (who, path)

    # The parties themselves still see what is theirs.
    owner_view = await world.http.get(
        f"/api/v1/transfers/{objects.pending_transfer}", headers=objects.owner
    )
    assert owner_view.status_code == 200
    cancelled_view = await world.http.get(
        f"/api/v1/exchange/listings/{objects.cancelled_listing}", headers=objects.owner
    )
    assert cancelled_view.json()["status"] == "cancelled"
