"""GraphQL over the same services: results, error codes, batch-loaded campaigns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from devstack.testing.statements import counting_statements

if TYPE_CHECKING:
    from conftest import World

URL = "/graphql/coupons"


async def gql(
    world: World, query: str, headers: dict[str, str] | None = None, **variables: Any
) -> dict[str, Any]:
    response = await world.http.post(
        URL, json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


CREATE = """
mutation ($input: CampaignInput!) {
  createCampaign(input: $input) { id status title discountValue perCustomerLimit issuedCount }
}"""

WALLET = """
query ($status: WalletFilter, $cursor: String) {
  wallet(status: $status, limit: 50, cursor: $cursor) {
    items { id code status campaign { id title status } }
    nextCursor
  }
}"""


def campaign_input(world: World, shop: Any, **overrides: Any) -> dict[str, Any]:
    body = world.campaign_body(shop, **overrides)
    return {
        "merchantId": body["merchant_id"],
        "title": body["title"],
        "discountType": body["discount_type"],
        "discountValue": body["discount_value"],
        "startsAt": body["starts_at"],
        "endsAt": body["ends_at"],
        **{k: v for k, v in overrides.items() if k in {"perCustomerLimit", "totalQuantity"}},
    }


async def test_create_publish_claim_redeem(world: World) -> None:
    shop = world.shop()
    created = await gql(world, CREATE, shop.owner, input=campaign_input(world, shop))
    campaign = created["data"]["createCampaign"]
    assert campaign["status"] == "draft"
    assert (campaign["perCustomerLimit"], campaign["issuedCount"]) == (1, 0)
    published = await gql(
        world,
        "mutation ($id: UUID!) { publishCampaign(id: $id) { status } }",
        shop.owner,
        id=campaign["id"],
    )
    assert published["data"]["publishCampaign"]["status"] == "active"
    _, customer = world.customer()
    claimed = await gql(
        world,
        "mutation ($id: UUID!) { claimCoupon(campaignId: $id) { code status campaign { title } } }",
        customer,
        id=campaign["id"],
    )
    coupon = claimed["data"]["claimCoupon"]
    assert coupon["status"] == "active"
    assert coupon["campaign"]["title"] == "Ten percent off"
    redeemed = await gql(
        world,
        """mutation ($code: String!, $outlet: UUID!) {
          redeemCoupon(code: $code, outletId: $outlet, orderAmount: 2500, orderReference: "G-1") {
            redemptionId discountAmount coupon { status }
          }
        }""",
        shop.staff,
        code=coupon["code"],
        outlet=str(shop.outlet_id),
    )
    receipt = redeemed["data"]["redeemCoupon"]
    assert receipt["discountAmount"] == 250
    assert receipt["coupon"]["status"] == "redeemed"


async def test_errors_carry_the_rest_codes(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    too_high = await gql(
        world, CREATE, shop.owner, input=campaign_input(world, shop, discount_value=95)
    )
    assert too_high["errors"][0]["extensions"]["code"] == "discount_too_high"
    short_title = await gql(world, CREATE, shop.owner, input=campaign_input(world, shop, title="x"))
    assert short_title["errors"][0]["extensions"]["code"] == "invalid_input"
    staff = await gql(world, CREATE, shop.staff, input=campaign_input(world, shop))
    assert staff["errors"][0]["extensions"]["code"] == "forbidden"
    anonymous = await gql(world, WALLET)
    assert anonymous["errors"][0]["extensions"]["code"] == "unauthenticated"
    campaign = await world.campaign(shop, total_quantity=1)
    _, customer = world.customer()
    claim = "mutation ($id: UUID!) { claimCoupon(campaignId: $id) { id } }"
    assert "errors" not in await gql(world, claim, customer, id=campaign["id"])
    _, late = world.customer()
    sold_out = await gql(world, claim, late, id=campaign["id"])
    assert sold_out["errors"][0]["extensions"]["code"] == "sold_out"
    # The failed mutation left nothing behind: no second customer counter row.
    counters = (
        await connection.execute(
            text("SELECT count(*) FROM coupons.customer_claims WHERE campaign_id = :id"),
            {"id": campaign["id"]},
        )
    ).scalar_one()
    assert counters == 1
    # A status outside the enum is refused before anything runs, as REST refuses it (422).
    bad_status = await gql(world, WALLET, customer, status="everything")
    assert bad_status["errors"][0]["extensions"]["code"] == "invalid_query"
    unknown = await gql(world, "{ nope }")
    assert unknown["errors"][0]["extensions"]["code"] == "invalid_query"


async def test_campaign_queries(world: World) -> None:
    shop = world.shop()
    active = await world.campaign(shop)
    draft = await world.campaign(shop, publish=False)
    one = await gql(
        world, "query ($id: UUID!) { campaign(id: $id) { id status } }", id=active["id"]
    )
    assert one["data"]["campaign"] == {"id": active["id"], "status": "active"}
    hidden = await gql(world, "query ($id: UUID!) { campaign(id: $id) { id } }", id=draft["id"])
    assert hidden["errors"][0]["extensions"]["code"] == "campaign_not_found"
    listing = """query ($merchant: UUID, $status: CampaignStatus) {
      campaigns(merchantId: $merchant, status: $status, limit: 10) { items { id } nextCursor }
    }"""
    public = await gql(world, listing, merchant=str(shop.merchant_id))
    assert public["data"]["campaigns"] == {"items": [{"id": active["id"]}], "nextCursor": None}
    drafts = await gql(world, listing, shop.owner, merchant=str(shop.merchant_id), status="draft")
    assert drafts["data"]["campaigns"]["items"] == [{"id": draft["id"]}]
    refused = await gql(world, listing, merchant=str(shop.merchant_id), status="draft")
    assert refused["errors"][0]["extensions"]["code"] == "forbidden"


async def test_coupon_by_code(world: World) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    query = "query ($code: String!) { coupon(code: $code) { id campaign { id } } }"
    found = await gql(world, query, owner, code=coupon["code"].lower())
    assert found["data"]["coupon"] == {
        "id": coupon["id"],
        "campaign": {"id": coupon["campaign_id"]},
    }
    _, stranger = world.customer()
    hidden = await gql(world, query, stranger, code=coupon["code"])
    assert hidden["errors"][0]["extensions"]["code"] == "coupon_not_found"


async def test_wallet_batch_loads_campaigns(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    _, few = world.customer()
    _, many = world.customer()
    await world.claim(await world.campaign(shop, title="Only one"), few)
    for i in range(10):
        await world.claim(await world.campaign(shop, title=f"Campaign {i}"), many)

    with counting_statements(connection) as statements:
        small = await gql(world, WALLET, few)
        for_few = len(statements)
        statements.clear()
        large = await gql(world, WALLET, many)
        for_many = len(statements)
    assert len(small["data"]["wallet"]["items"]) == 1
    items = large["data"]["wallet"]["items"]
    assert len(items) == 10
    assert {i["campaign"]["title"] for i in items} == {f"Campaign {i}" for i in range(10)}
    assert for_many == for_few
    assert sum("coupons.campaigns" in s for s in statements) == 1


BIG = 5_000_000_000  # above 2^31: GraphQL's Int cannot carry it


async def test_money_and_counts_are_64_bit(world: World) -> None:
    shop = world.shop()
    body = world.campaign_body(shop)
    created = await gql(
        world,
        """mutation ($input: CampaignInput!) {
          createCampaign(input: $input) { id discountValue minSpend totalQuantity issuedCount }
        }""",
        shop.owner,
        input={
            "merchantId": body["merchant_id"],
            "title": "Big ticket",
            "discountType": "fixed_amount",
            "discountValue": BIG,
            "currency": "EUR",
            "minSpend": BIG * 2,
            "totalQuantity": 1000,
            "startsAt": body["starts_at"],
            "endsAt": body["ends_at"],
        },
    )
    assert "errors" not in created, created
    campaign = created["data"]["createCampaign"]
    assert (campaign["discountValue"], campaign["minSpend"]) == (BIG, BIG * 2)
    assert (campaign["totalQuantity"], campaign["issuedCount"]) == (1000, 0)
    await world.http.post(f"/api/v1/campaigns/{campaign['id']}/publish", headers=shop.owner)
    coupon = await world.claim(campaign, world.customer()[1])
    redeemed = await gql(
        world,
        """mutation ($code: String!, $outlet: UUID!, $amount: Long) {
          redeemCoupon(code: $code, outletId: $outlet, orderAmount: $amount) {
            discountAmount orderAmount
          }
        }""",
        shop.staff,
        code=coupon["code"],
        outlet=str(shop.outlet_id),
        amount=BIG * 3,
    )
    assert redeemed["data"]["redeemCoupon"] == {"discountAmount": BIG, "orderAmount": BIG * 3}


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 1.5, "12", True])
async def test_long_refuses_what_is_not_a_64_bit_integer(world: World, value: Any) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    refused = await gql(
        world,
        """mutation ($code: String!, $outlet: UUID!, $amount: Long) {
          redeemCoupon(code: $code, outletId: $outlet, orderAmount: $amount) { redemptionId }
        }""",
        shop.staff,
        code=coupon["code"],
        outlet=str(shop.outlet_id),
        amount=value,
    )
    assert refused["errors"][0]["extensions"]["code"] in {"invalid_query", "invalid_input"}
    assert "data" not in refused or refused["data"] is None


async def test_long_in_a_query_literal(world: World) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    redeemed = await gql(
        world,
        f"""mutation {{
          redeemCoupon(code: "{coupon["code"]}", outletId: "{shop.outlet_id}",
                       orderAmount: {BIG}) {{ orderAmount discountAmount }}
        }}""",
        shop.staff,
    )
    assert redeemed["data"]["redeemCoupon"] == {"orderAmount": BIG, "discountAmount": BIG // 10}
    too_big = await gql(
        world,
        f"""mutation {{
          redeemCoupon(code: "{coupon["code"]}", outletId: "{shop.outlet_id}",
                       orderAmount: {2**64}) {{ orderAmount }}
        }}""",
        shop.staff,
    )
    assert too_big["errors"][0]["extensions"]["code"] in {"invalid_query", "invalid_input"}


async def test_a_coupons_campaign_is_the_summary_rest_shows(world: World) -> None:
    """A coupon's reader sees what REST shows on a coupon, not the campaign's counts and
    quantities (which only its merchant's members may read)."""
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    summary = await gql(
        world,
        """query ($code: String!) { coupon(code: $code) { campaign {
          id merchantId title status discountType discountValue currency minSpend endsAt
          outletIds transferable tradable
        } } }""",
        owner,
        code=coupon["code"],
    )
    assert "errors" not in summary, summary
    rest = (await world.http.get(f"/api/v1/coupons/{coupon['code']}", headers=owner)).json()
    shown = summary["data"]["coupon"]["campaign"]
    assert set(shown) == {
        "id",
        "merchantId",
        "title",
        "status",
        "discountType",
        "discountValue",
        "currency",
        "minSpend",
        "endsAt",
        "outletIds",
        "transferable",
        "tradable",
    }
    assert shown["id"] == rest["campaign"]["id"]
    assert shown["discountValue"] == rest["campaign"]["discount_value"]
    for hidden in ("issuedCount", "redeemedCount", "totalQuantity", "perCustomerLimit"):
        refused = await gql(
            world,
            f"query ($code: String!) {{ coupon(code: $code) {{ campaign {{ {hidden} }} }} }}",
            owner,
            code=coupon["code"],
        )
        assert refused["errors"][0]["extensions"]["code"] == "invalid_query", hidden
