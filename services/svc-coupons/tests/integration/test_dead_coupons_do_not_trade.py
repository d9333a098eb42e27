"""A coupon changes hands only while it could still be used: its campaign active or paused,
its merchant not suspended. Checked when the gift or listing is made and again by the
statement that moves it (gift accept, swap accept, on both coupons), REST and GraphQL."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.events import DomainEvent

if TYPE_CHECKING:
    from conftest import Headers, Shop, World

GQL = "/graphql/coupons"
GIVE = "mutation ($code: String!) { giveCoupon(code: $code) { claimToken } }"
LIST = "mutation ($code: String!) { createListing(couponCode: $code) { id } }"
ACCEPT_TRANSFER = """
mutation ($id: UUID!, $token: String!) { acceptTransfer(id: $id, claimToken: $token) { id } }"""
ACCEPT_LISTING = """
mutation ($id: UUID!, $code: String!) {
  acceptListing(id: $id, offeredCouponCode: $code) { received { id } }
}"""
COUPON = "query ($code: String!) { coupon(code: $code) { status campaign { status } } }"


async def end(world: World, shop: Shop, campaign_id: str) -> None:
    response = await world.http.post(f"/api/v1/campaigns/{campaign_id}/end", headers=shop.owner)
    assert response.status_code == 200, response.text


async def suspend(world: World, app: FastAPI, shop: Shop) -> None:
    """svc-merchants suspends the merchant and tells: its cached verified answer goes."""
    world.merchants.set_status(shop.merchant_id, "suspended")
    await app.state.consumers["merchant.suspended"](
        DomainEvent(
            type="merchant.suspended",
            entity_type="merchant",
            entity_id=str(shop.merchant_id),
            actor="admin",
            data={"reason": "test"},
            source="merchants",
        )
    )


async def post(world: World, path: str, headers: Headers, **body: Any) -> Any:
    return await world.http.post(path, json=body or None, headers=headers)


async def gql_code(world: World, query: str, headers: Headers, **variables: Any) -> str:
    response = await world.http.post(
        GQL, json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    assert body["data"] is None, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def problem(response: Any) -> tuple[int, str]:
    return response.status_code, response.json().get("code")


async def stored(connection: AsyncConnection, coupon_id: str) -> tuple[str, str]:
    row = (
        await connection.execute(
            text("SELECT owner_user_id::text, status FROM coupons.coupons WHERE id = :id"),
            {"id": coupon_id},
        )
    ).one()
    return row[0], row[1]


async def test_an_ended_campaigns_coupon_is_neither_given_nor_listed(world: World) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    await end(world, shop, coupon["campaign_id"])
    give = await post(world, f"/api/v1/coupons/{coupon['code']}/transfers", owner)
    listed = await post(world, "/api/v1/exchange/listings", owner, coupon_code=coupon["code"])
    assert problem(give) == (409, "campaign_not_active")
    assert problem(listed) == (409, "campaign_not_active")
    assert await gql_code(world, GIVE, owner, code=coupon["code"]) == "campaign_not_active"
    assert await gql_code(world, LIST, owner, code=coupon["code"]) == "campaign_not_active"
    # What the holder reads: the coupon is still theirs and `active` (nobody voided it), with
    # its campaign's status beside it; `?status=active` (usable now) leaves it out.
    lookup = (await world.http.get(f"/api/v1/coupons/{coupon['code']}", headers=owner)).json()
    assert (lookup["status"], lookup["campaign"]["status"]) == ("active", "ended")
    graphql = await world.http.post(
        GQL, json={"query": COUPON, "variables": {"code": coupon["code"]}}, headers=owner
    )
    assert graphql.json()["data"]["coupon"] == {"status": "active", "campaign": {"status": "ended"}}
    usable = await world.http.get("/api/v1/wallet?status=active", headers=owner)
    assert usable.json()["items"] == []


async def test_a_suspended_merchants_coupon_is_neither_given_nor_listed(
    world: World, coupons_app: FastAPI
) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    await suspend(world, coupons_app, shop)
    give = await post(world, f"/api/v1/coupons/{coupon['code']}/transfers", owner)
    listed = await post(world, "/api/v1/exchange/listings", owner, coupon_code=coupon["code"])
    assert problem(give) == (409, "merchant_not_verified")
    assert problem(listed) == (409, "merchant_not_verified")
    assert await gql_code(world, GIVE, owner, code=coupon["code"]) == "merchant_not_verified"
    assert await gql_code(world, LIST, owner, code=coupon["code"]) == "merchant_not_verified"


async def test_a_paused_campaigns_coupon_still_changes_hands(world: World) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    paused = await post(world, f"/api/v1/campaigns/{coupon['campaign_id']}/pause", shop.owner)
    assert paused.status_code == 200, paused.text
    gift = await post(world, f"/api/v1/coupons/{coupon['code']}/transfers", owner)
    assert gift.status_code == 201, gift.text
    _, friend = world.customer()
    taken = await post(
        world,
        f"/api/v1/transfers/{gift.json()['id']}/accept",
        friend,
        claim_token=gift.json()["claim_token"],
    )
    assert taken.status_code == 200, taken.text


@pytest.mark.parametrize("api", ["rest", "graphql"])
@pytest.mark.parametrize(
    ("change", "refusal"),
    [("end", "campaign_not_active"), ("suspend", "merchant_not_verified")],
)
async def test_a_pending_gift_is_not_accepted_once_its_coupon_is_dead(
    world: World,
    coupons_app: FastAPI,
    connection: AsyncConnection,
    api: str,
    change: str,
    refusal: str,
) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    gift = (await post(world, f"/api/v1/coupons/{coupon['code']}/transfers", owner)).json()
    if change == "end":
        await end(world, shop, coupon["campaign_id"])
    else:
        await suspend(world, coupons_app, shop)
    _, friend = world.customer()
    if api == "rest":
        response = await post(
            world,
            f"/api/v1/transfers/{gift['id']}/accept",
            friend,
            claim_token=gift["claim_token"],
        )
        assert problem(response) == (409, refusal)
    else:
        code = await gql_code(
            world, ACCEPT_TRANSFER, friend, id=gift["id"], token=gift["claim_token"]
        )
        assert code == refusal
    assert await stored(connection, coupon["id"]) == (coupon["owner_user_id"], "reserved")
    seen = await world.http.get(f"/api/v1/transfers/{gift['id']}", headers=owner)
    assert seen.json()["status"] == "pending"


@pytest.mark.parametrize("api", ["rest", "graphql"])
@pytest.mark.parametrize("dead", ["listed", "offered"])
@pytest.mark.parametrize(
    ("change", "refusal"),
    [("end", "campaign_not_active"), ("suspend", "merchant_not_verified")],
)
async def test_a_swap_refuses_a_dead_coupon_on_either_side(
    world: World,
    coupons_app: FastAPI,
    connection: AsyncConnection,
    api: str,
    dead: str,
    change: str,
    refusal: str,
) -> None:
    # Two merchants, so one side can die alone; `wants: {}` takes any tradable coupon.
    lister_shop, taker_shop = world.shop(), world.shop()
    listed, lister = await world.coupon(lister_shop)
    listing = (
        await post(world, "/api/v1/exchange/listings", lister, coupon_code=listed["code"])
    ).json()
    offered, taker = await world.coupon(taker_shop)
    shop, victim = (lister_shop, listed) if dead == "listed" else (taker_shop, offered)
    if change == "end":
        await end(world, shop, victim["campaign_id"])
    else:
        await suspend(world, coupons_app, shop)
    if api == "rest":
        response = await post(
            world,
            f"/api/v1/exchange/listings/{listing['id']}/accept",
            taker,
            offered_coupon_code=offered["code"],
        )
        assert problem(response) == (409, refusal)
    else:
        code = await gql_code(world, ACCEPT_LISTING, taker, id=listing["id"], code=offered["code"])
        assert code == refusal
    assert await stored(connection, listed["id"]) == (listed["owner_user_id"], "reserved")
    assert await stored(connection, offered["id"]) == (offered["owner_user_id"], "active")
    still = await world.http.get(f"/api/v1/exchange/listings/{listing['id']}", headers=lister)
    assert still.json()["status"] == "open"


def campaigns_read_as_active(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read before the write sees the campaigns as active: what a request sees when
    the owner ends a campaign between its checks and its statement. Only the statement
    itself can refuse then; the service's second look (after the statement) is fresh."""
    from svc_coupons.repositories.coupons import CouponRepository
    from svc_coupons.repositories.listings import ListingRepository
    from svc_coupons.repositories.transfers import TransferRepository
    from svc_coupons.services.data_model.campaigns import CampaignStatus

    def active(campaign: Any) -> Any:
        return dataclasses.replace(campaign, status=CampaignStatus.ACTIVE)

    def stale_first(real: Any, restate: Any) -> Any:
        seen: set[Any] = set()

        async def read(self: Any, key: Any) -> Any:
            found = await real(self, key)
            if found is None or key in seen:
                return found
            seen.add(key)
            return restate(found)

        return read

    monkeypatch.setattr(
        CouponRepository,
        "with_campaign",
        stale_first(CouponRepository.with_campaign, lambda f: (f[0], active(f[1]))),
    )
    for repository in (TransferRepository, ListingRepository):
        monkeypatch.setattr(
            repository,
            "get",
            stale_first(repository.get, lambda f: (f[0], f[1], active(f[2]))),
        )


async def test_the_gift_accept_statement_itself_refuses_an_ended_campaign(
    world: World, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    gift = (await post(world, f"/api/v1/coupons/{coupon['code']}/transfers", owner)).json()
    await end(world, shop, coupon["campaign_id"])
    campaigns_read_as_active(monkeypatch)
    _, friend = world.customer()
    response = await post(
        world,
        f"/api/v1/transfers/{gift['id']}/accept",
        friend,
        claim_token=gift["claim_token"],
    )
    assert problem(response) == (409, "campaign_not_active")
    assert await stored(connection, coupon["id"]) == (coupon["owner_user_id"], "reserved")


@pytest.mark.parametrize("dead", ["listed", "offered"])
async def test_the_swap_statement_itself_refuses_an_ended_campaign(
    world: World, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch, dead: str
) -> None:
    shop = world.shop()
    listed, lister = await world.coupon(shop)
    listing = (
        await post(world, "/api/v1/exchange/listings", lister, coupon_code=listed["code"])
    ).json()
    offered, taker = await world.coupon(shop)
    await end(world, shop, (listed if dead == "listed" else offered)["campaign_id"])
    campaigns_read_as_active(monkeypatch)
    response = await post(
        world,
        f"/api/v1/exchange/listings/{listing['id']}/accept",
        taker,
        offered_coupon_code=offered["code"],
    )
    assert problem(response) == (409, "campaign_not_active")
    assert await stored(connection, listed["id"]) == (listed["owner_user_id"], "reserved")
    assert await stored(connection, offered["id"]) == (offered["owner_user_id"], "active")


@pytest.mark.parametrize("kind", ["gift", "listing"])
async def test_the_holding_statement_itself_refuses_an_ended_campaign(
    world: World, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    await end(world, shop, coupon["campaign_id"])
    campaigns_read_as_active(monkeypatch)
    if kind == "gift":
        response = await post(world, f"/api/v1/coupons/{coupon['code']}/transfers", owner)
    else:
        response = await post(world, "/api/v1/exchange/listings", owner, coupon_code=coupon["code"])
    assert problem(response) == (409, "campaign_not_active")
    assert await stored(connection, coupon["id"]) == (coupon["owner_user_id"], "active")
