"""The exchange in GraphQL: the same services as REST, the same codes in extensions.code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from conftest import World

URL = "/graphql/coupons"

GIVE = """
mutation ($code: String!) {
  giveCoupon(code: $code) { claimToken id status coupon { id status } }
}"""
ACCEPT_TRANSFER = """
mutation ($id: UUID!, $token: String!) {
  acceptTransfer(id: $id, claimToken: $token) { id code ownerUserId status }
}"""
ROTATE = """
mutation ($id: UUID!) { rotateClaimToken(id: $id) { claimToken id } }"""
CANCEL_TRANSFER = "mutation ($id: UUID!) { cancelTransfer(id: $id) { id code status } }"
TRANSFERS = "query { transfers(role: sent) { items { id status } nextCursor } }"
LIST = """
mutation ($code: String!, $wants: WantsInput) {
  createListing(couponCode: $code, wants: $wants) {
    id status wants { campaignId merchantId } coupon { id status campaign { title } }
  }
}"""
LISTINGS = """
query ($campaignId: UUID) {
  listings(campaignId: $campaignId) { items { id status coupon { id } } nextCursor }
}"""
ACCEPT_LISTING = """
mutation ($id: UUID!, $code: String!) {
  acceptListing(id: $id, offeredCouponCode: $code) {
    received { id code status } given { id status } listing { status }
  }
}"""
CANCEL_LISTING = "mutation ($id: UUID!) { cancelListing(id: $id) { id status } }"
ALLOCATE = """
mutation ($campaignId: UUID!, $partner: UUID!, $quantity: Long!) {
  createAllocation(campaignId: $campaignId, partnerMerchantId: $partner, quantity: $quantity) {
    id quantity issued partnerMerchantId
  }
}"""
ISSUE = """
mutation ($id: UUID!, $userId: UUID!) {
  issueFromAllocation(id: $id, userId: $userId) { id ownerUserId status }
}"""
ALLOCATIONS = """
query ($partner: UUID) { allocations(partnerMerchantId: $partner) { items { id issued } } }
"""


async def gql(world: World, query: str, headers: dict[str, str], **variables: Any) -> Any:
    response = await world.http.post(
        URL, json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def error_code(body: dict[str, Any]) -> str:
    assert body["data"] is None, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def test_gift_through_graphql(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    coupon, sender = await world.coupon(shop)
    given = (await gql(world, GIVE, sender, code=coupon["code"]))["data"]["giveCoupon"]
    assert given["status"] == "pending"
    assert given["coupon"] == {"id": coupon["id"], "status": "reserved"}
    transfer_id = given["id"]
    again = await gql(world, GIVE, sender, code=coupon["code"])
    assert error_code(again) == "coupon_locked"
    recipient_id, recipient = world.customer()
    wrong = await gql(world, ACCEPT_TRANSFER, recipient, id=transfer_id, token="wrong")
    assert error_code(wrong) == "invalid_claim_token"
    taken = (
        await gql(world, ACCEPT_TRANSFER, recipient, id=transfer_id, token=given["claimToken"])
    )["data"]["acceptTransfer"]
    assert (taken["ownerUserId"], taken["status"]) == (str(recipient_id), "active")
    assert taken["code"] != coupon["code"]
    sent = (await gql(world, TRANSFERS, sender))["data"]["transfers"]["items"]
    assert sent == [{"id": transfer_id, "status": "accepted"}]
    closed = await gql(world, CANCEL_TRANSFER, sender, id=transfer_id)
    assert error_code(closed) == "transfer_closed"
    # With an Idempotency-Key, the GraphQL answer is not stored either: no table has a token.
    other, owner = await world.coupon(shop)
    keyed = owner | {"Idempotency-Key": "gql-gift"}
    first = (await gql(world, GIVE, keyed, code=other["code"]))["data"]["giveCoupon"]
    second = (await gql(world, GIVE, keyed, code=other["code"]))["data"]["giveCoupon"]
    # The same answer, token included: derived from the transfer, not stored.
    assert second == first
    stored = await connection.execute(
        text("SELECT count(*) FROM coupons.idempotency_keys WHERE key = 'gql-gift'")
    )
    assert stored.scalar_one() == 0
    transfer = first["id"]
    rotated = (await gql(world, ROTATE, owner, id=transfer))["data"]["rotateClaimToken"]
    assert rotated["id"] == transfer
    assert rotated["claimToken"] != first["claimToken"]
    stale = await gql(world, ACCEPT_TRANSFER, recipient, id=transfer, token=first["claimToken"])
    assert error_code(stale) == "invalid_claim_token"
    assert error_code(await gql(world, ROTATE, recipient, id=transfer)) == "transfer_not_found"
    cancelled = (await gql(world, CANCEL_TRANSFER, owner, id=first["id"]))["data"]["cancelTransfer"]
    assert (cancelled["code"], cancelled["status"]) == (other["code"], "active")


GIVE_AND_CLAIM = """
mutation ($code: String!, $campaignId: UUID!) {
  giveCoupon(code: $code) { claimToken id }
  claimCoupon(campaignId: $campaignId) { id }
}"""


async def test_keyed_secret_answer_must_be_alone(world: World, connection: AsyncConnection) -> None:
    # A secret answer is not kept for replay, so a retry would run the document again: a
    # mutation beside it would run twice (two coupons claimed). Refused before anything runs.
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    campaign = await world.campaign(shop, title="Beside a gift")
    keyed = owner | {"Idempotency-Key": "gql-gift-and-claim"}
    for _ in range(2):
        refused = await world.http.post(
            URL,
            json={
                "query": GIVE_AND_CLAIM,
                "variables": {"code": coupon["code"], "campaignId": campaign["id"]},
            },
            headers=keyed,
        )
        assert refused.status_code == 400, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "invalid_query"
    # Also through a fragment, and with the same secret field twice (aliases).
    for query in (
        "mutation ($code: String!) { ...Both }\n"
        "fragment Both on Mutation { giveCoupon(code: $code) { claimToken } "
        'cancelTransfer(id: "00000000-0000-0000-0000-000000000000") { id } }',
        "mutation ($code: String!) { a: giveCoupon(code: $code) { claimToken } "
        "b: giveCoupon(code: $code) { claimToken } }",
    ):
        twice = await world.http.post(
            URL, json={"query": query, "variables": {"code": coupon["code"]}}, headers=keyed
        )
        assert twice.status_code == 400, twice.text
    claimed = await connection.execute(
        text("SELECT count(*) FROM coupons.coupons WHERE campaign_id = :id"),
        {"id": campaign["id"]},
    )
    assert claimed.scalar_one() == 0
    # Without a key nothing is replayed, so nothing can run twice: the document runs.
    both = (
        await gql(world, GIVE_AND_CLAIM, owner, code=coupon["code"], campaignId=campaign["id"])
    )["data"]
    assert both["giveCoupon"]["claimToken"]
    assert both["claimCoupon"]["id"]
    # Alone, the keyed gift still answers a retry with the same token.
    other, other_owner = await world.coupon(shop)
    alone = other_owner | {"Idempotency-Key": "gql-gift-alone"}
    first = (await gql(world, GIVE, alone, code=other["code"]))["data"]["giveCoupon"]
    assert (await gql(world, GIVE, alone, code=other["code"]))["data"]["giveCoupon"] == first
    # REST keeps one operation a request: its keyed gift is unaffected.
    third, third_owner = await world.coupon(shop)
    rest_keyed = third_owner | {"Idempotency-Key": "rest-gift"}
    given = [
        await world.http.post(f"/api/v1/coupons/{third['code']}/transfers", headers=rest_keyed)
        for _ in range(2)
    ]
    assert [r.status_code for r in given] == [201, 201], given[1].text
    assert given[1].json() == given[0].json()


async def test_swap_through_graphql(world: World) -> None:
    shop = world.shop()
    listed, lister = await world.coupon(shop)
    wanted = await world.campaign(shop, title="Wanted")
    listing = (
        await gql(world, LIST, lister, code=listed["code"], wants={"campaignId": wanted["id"]})
    )["data"]["createListing"]
    assert listing["status"] == "open"
    assert listing["wants"] == {"campaignId": wanted["id"], "merchantId": None}
    _, taker = world.customer()
    offered = await world.claim(wanted, taker)
    mismatch, _ = await world.coupon(shop)
    browse = (await gql(world, LISTINGS, taker, campaignId=listed["campaign_id"]))["data"]
    assert [x["id"] for x in browse["listings"]["items"]] == [listing["id"]]
    refused = await gql(world, ACCEPT_LISTING, taker, id=listing["id"], code=mismatch["code"])
    assert error_code(refused) == "coupon_not_found"
    swap = (await gql(world, ACCEPT_LISTING, taker, id=listing["id"], code=offered["code"]))[
        "data"
    ]["acceptListing"]
    assert swap["received"]["id"] == listed["id"]
    assert swap["received"]["code"] != listed["code"]
    assert swap["given"] == {"id": offered["id"], "status": "active"}
    assert swap["listing"]["status"] == "accepted"
    closed = await gql(world, CANCEL_LISTING, lister, id=listing["id"])
    assert error_code(closed) == "listing_closed"
    untradable, owner = await world.coupon(shop, tradable=False)
    assert error_code(await gql(world, LIST, owner, code=untradable["code"])) == "not_tradable"


async def test_allocations_through_graphql(world: World) -> None:
    shop, partner = world.shop(), world.shop()
    campaign = await world.campaign(shop, total_quantity=3)
    allocation = (
        await gql(
            world,
            ALLOCATE,
            shop.owner,
            campaignId=campaign["id"],
            partner=str(partner.merchant_id),
            quantity=2,
        )
    )["data"]["createAllocation"]
    assert (allocation["quantity"], allocation["issued"]) == (2, 0)
    too_many = await gql(
        world,
        ALLOCATE,
        shop.owner,
        campaignId=campaign["id"],
        partner=str(partner.merchant_id),
        quantity=2,
    )
    assert error_code(too_many) == "sold_out"
    for _ in range(2):
        user_id = uuid4()
        issued = (await gql(world, ISSUE, partner.staff, id=allocation["id"], userId=str(user_id)))[
            "data"
        ]["issueFromAllocation"]
        assert (issued["ownerUserId"], issued["status"]) == (str(user_id), "active")
    exhausted = await gql(world, ISSUE, partner.staff, id=allocation["id"], userId=str(uuid4()))
    assert error_code(exhausted) == "allocation_exhausted"
    refused = await gql(world, ISSUE, shop.owner, id=allocation["id"], userId=str(uuid4()))
    assert error_code(refused) == "forbidden"
    held = (await gql(world, ALLOCATIONS, partner.owner, partner=str(partner.merchant_id)))["data"][
        "allocations"
    ]["items"]
    assert held == [{"id": allocation["id"], "issued": 2}]
