"""The GraphQL fields that mirror REST operations GraphQL lacked: each answers what its REST
twin answers, refuses whom its twin refuses with the same code in extensions.code, and
a keyed mutation is replayed as REST replays it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from conftest import Headers, World

URL = "/graphql/coupons"

CAMPAIGN_FIELDS = "id status title description currency discountType discountValue"
UPDATE = f"""
mutation ($id: UUID!, $input: CampaignPatch!) {{
  updateCampaign(id: $id, input: $input) {{ {CAMPAIGN_FIELDS} }}
}}"""
TRANSITIONS = {
    action: f"mutation ($id: UUID!) {{ {action}Campaign(id: $id) {{ id status }} }}"
    for action in ("publish", "pause", "resume", "end")
}
ISSUE = """
mutation ($campaignId: UUID!, $userId: UUID!) {
  issueCoupon(campaignId: $campaignId, userId: $userId) { id code ownerUserId status }
}"""
GENERATE = """
mutation ($campaignId: UUID!, $count: Int!) {
  generateCodes(campaignId: $campaignId, count: $count) { generated }
}"""
CODES = """
query ($campaignId: UUID!, $limit: Int!, $cursor: String) {
  codes(campaignId: $campaignId, limit: $limit, cursor: $cursor) {
    items { code createdAt } nextCursor
  }
}"""
CLAIM_CODE = "mutation ($code: String!) { claimCode(code: $code) { id code ownerUserId status } }"
VALIDATE = """
mutation ($code: String!, $outlet: UUID!, $amount: Long) {
  validateCoupon(code: $code, outletId: $outlet, orderAmount: $amount) {
    valid reason discountAmount
  }
}"""
REVERSE = """
mutation ($code: String!, $reason: String!) {
  reverseRedemption(code: $code, reason: $reason) { id status redeemedAt }
}"""
VOID = """
mutation ($code: String!, $reason: String!) { voidCoupon(code: $code, reason: $reason) { status } }
"""
HISTORY = """
query ($code: String!, $limit: Int!, $cursor: String) {
  couponHistory(code: $code, limit: $limit, cursor: $cursor) {
    items { eventId type actor at data } nextCursor
  }
}"""
STATS = """
query ($id: UUID!) {
  campaignStats(id: $id) {
    issued redeemed active expired voided reserved unassigned redemptionRate
    byOutlet { outletId redeemed } byDistributor { merchantId issued redeemed }
  }
}"""
CREATE_ALLOCATION = """
mutation ($campaignId: UUID!, $partner: UUID!, $quantity: Long!) {
  createAllocation(campaignId: $campaignId, partnerMerchantId: $partner, quantity: $quantity) {
    id campaignId partnerMerchantId quantity issued
  }
}"""
CAMPAIGN_ALLOCATIONS = """
query ($campaignId: UUID!) {
  campaignAllocations(campaignId: $campaignId, limit: 10) { items { id quantity } nextCursor }
}"""


async def gql(
    world: World, query: str, headers: Headers | None = None, **variables: Any
) -> dict[str, Any]:
    response = await world.http.post(
        URL, json={"query": query, "variables": variables}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def data(body: dict[str, Any], field: str) -> Any:
    assert "errors" not in body, body
    return body["data"][field]


def refusal(body: dict[str, Any]) -> str:
    assert body.get("data") is None, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def same_refusal(rest: httpx.Response, body: dict[str, Any]) -> str:
    """The code REST answered, which GraphQL answered too."""
    assert rest.status_code >= 400, rest.text
    assert refusal(body) == rest.json()["code"], (rest.text, body)
    return refusal(body)


async def test_a_draft_is_updated_then_taken_through_its_lifecycle(world: World) -> None:
    shop = world.shop()
    draft = await world.campaign(
        shop, publish=False, description="Mornings only", currency=None, total_quantity=50
    )
    changed = data(
        await gql(
            world, UPDATE, shop.owner, id=draft["id"], input={"title": "New", "description": None}
        ),
        "updateCampaign",
    )
    # What was sent changed (a null where null is allowed too); what was left out did not.
    assert changed == {
        "id": draft["id"],
        "status": "draft",
        "title": "New",
        "description": None,
        "currency": None,
        "discountType": "percentage",
        "discountValue": 10,
    }
    rest = await world.http.get(f"/api/v1/campaigns/{draft['id']}", headers=shop.owner)
    assert (rest.json()["title"], rest.json()["total_quantity"]) == ("New", 50)
    nulled = await gql(world, UPDATE, shop.owner, id=draft["id"], input={"title": None})
    assert refusal(nulled) == "invalid_input"
    by_staff = await gql(world, UPDATE, shop.staff, id=draft["id"], input={"title": "Staff's"})
    rest_by_staff = await world.http.patch(
        f"/api/v1/campaigns/{draft['id']}", json={"title": "Staff's"}, headers=shop.staff
    )
    assert same_refusal(rest_by_staff, by_staff) == "forbidden"

    for action, status in (("publish", "active"), ("pause", "paused"), ("resume", "active")):
        moved = data(
            await gql(world, TRANSITIONS[action], shop.owner, id=draft["id"]), action + "Campaign"
        )
        assert moved == {"id": draft["id"], "status": status}
    not_draft = await gql(world, UPDATE, shop.owner, id=draft["id"], input={"title": "Late"})
    assert refusal(not_draft) == "campaign_not_draft"
    staff_ends = await gql(world, TRANSITIONS["end"], shop.staff, id=draft["id"])
    rest_staff_ends = await world.http.post(
        f"/api/v1/campaigns/{draft['id']}/end", headers=shop.staff
    )
    assert same_refusal(rest_staff_ends, staff_ends) == "forbidden"
    ended = data(await gql(world, TRANSITIONS["end"], shop.owner, id=draft["id"]), "endCampaign")
    assert ended["status"] == "ended"
    again = await gql(world, TRANSITIONS["pause"], shop.owner, id=draft["id"])
    assert refusal(again) == "invalid_transition"


async def test_issue_generate_list_and_claim_codes(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=10)
    user_id, _ = world.customer()
    issued = data(
        await gql(world, ISSUE, shop.staff, campaignId=campaign["id"], userId=str(user_id)),
        "issueCoupon",
    )
    assert (issued["ownerUserId"], issued["status"]) == (str(user_id), "active")
    _, customer = world.customer()
    by_customer = await gql(world, ISSUE, customer, campaignId=campaign["id"], userId=str(user_id))
    rest_by_customer = await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/issue",
        json={"user_id": str(user_id)},
        headers=customer,
    )
    assert same_refusal(rest_by_customer, by_customer) == "forbidden"

    generated = await gql(world, GENERATE, shop.owner, campaignId=campaign["id"], count=3)
    assert data(generated, "generateCodes") == {"generated": 3}
    none = await gql(world, GENERATE, shop.owner, campaignId=campaign["id"], count=0)
    assert refusal(none) == "invalid_input"
    by_staff = await gql(world, GENERATE, shop.staff, campaignId=campaign["id"], count=1)
    rest_by_staff = await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/codes", json={"count": 1}, headers=shop.staff
    )
    assert same_refusal(rest_by_staff, by_staff) == "forbidden"

    first = data(await gql(world, CODES, shop.owner, campaignId=campaign["id"], limit=2), "codes")
    assert len(first["items"]) == 2
    assert first["nextCursor"]
    rest = await world.http.get(
        f"/api/v1/campaigns/{campaign['id']}/codes?limit=2", headers=shop.owner
    )
    assert [c["code"] for c in first["items"]] == [c["code"] for c in rest.json()["items"]]
    second_page = data(
        await gql(
            world, CODES, shop.owner, campaignId=campaign["id"], limit=2, cursor=first["nextCursor"]
        ),
        "codes",
    )
    assert len(second_page["items"]) == 1
    assert second_page["nextCursor"] is None
    hidden = await gql(world, CODES, shop.staff, campaignId=campaign["id"], limit=2)
    rest_hidden = await world.http.get(
        f"/api/v1/campaigns/{campaign['id']}/codes", headers=shop.staff
    )
    same_refusal(rest_hidden, hidden)

    code = second_page["items"][0]["code"]
    claimer_id, claimer = world.customer()
    spaced = "-".join(code[i : i + 4] for i in range(0, len(code), 4)).lower()
    claimed = data(await gql(world, CLAIM_CODE, claimer, code=spaced), "claimCode")
    assert (claimed["ownerUserId"], claimed["status"]) == (str(claimer_id), "active")
    _, late = world.customer()
    assert refusal(await gql(world, CLAIM_CODE, late, code=code)) == "code_already_claimed"
    unknown = await gql(world, CLAIM_CODE, late, code="NOPE-NOPE-NOPE")
    assert refusal(unknown) == "code_not_found"


async def test_validate_redeem_reverse_void_and_history(world: World) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    code = coupon["code"]
    outlet = str(shop.outlet_id)
    would = data(
        await gql(world, VALIDATE, shop.staff, code=code, outlet=outlet, amount=2000),
        "validateCoupon",
    )
    assert would == {"valid": True, "reason": None, "discountAmount": 200}
    _, stranger = world.customer()
    hidden = await gql(world, VALIDATE, stranger, code=code, outlet=outlet)
    rest_hidden = await world.http.post(
        f"/api/v1/coupons/{code}/validate", json={"outlet_id": outlet}, headers=stranger
    )
    same_refusal(rest_hidden, hidden)
    assert (await world.redeem(shop, code, order_amount=2000)).status_code == 200
    used = data(await gql(world, VALIDATE, shop.staff, code=code, outlet=outlet), "validateCoupon")
    assert used == {"valid": False, "reason": "already_redeemed", "discountAmount": None}

    blank = await gql(world, REVERSE, shop.owner, code=code, reason="")
    assert refusal(blank) == "invalid_input"
    by_staff = await gql(world, REVERSE, shop.staff, code=code, reason="till error")
    rest_by_staff = await world.http.post(
        f"/api/v1/coupons/{code}/reverse-redemption",
        json={"reason": "till error"},
        headers=shop.staff,
    )
    assert same_refusal(rest_by_staff, by_staff) == "forbidden"
    reversed_ = data(
        await gql(world, REVERSE, shop.owner, code=code, reason="till error"), "reverseRedemption"
    )
    assert (reversed_["id"], reversed_["status"], reversed_["redeemedAt"]) == (
        coupon["id"],
        "active",
        None,
    )
    again = await gql(world, REVERSE, shop.owner, code=code, reason="twice")
    assert refusal(again) == "not_redeemed"
    voided = data(await gql(world, VOID, shop.owner, code=code, reason="fraud"), "voidCoupon")
    assert voided == {"status": "void"}
    assert refusal(await gql(world, VOID, shop.owner, code=code, reason="again")) == "coupon_void"

    first = data(await gql(world, HISTORY, owner, code=code, limit=2), "couponHistory")
    second = data(
        await gql(world, HISTORY, owner, code=code, limit=2, cursor=first["nextCursor"]),
        "couponHistory",
    )
    events = first["items"] + second["items"]
    assert [e["type"] for e in events] == [
        "coupon.claimed",
        "coupon.redeemed",
        "coupon.redemption_reversed",
        "coupon.voided",
    ]
    assert second["nextCursor"] is None
    assert events[2]["data"]["reason"] == "till error"
    rest = await world.http.get(f"/api/v1/coupons/{code}/history?limit=2", headers=owner)
    assert [e["event_id"] for e in rest.json()["items"]] == [e["eventId"] for e in first["items"]]
    assert rest.json()["next_cursor"] == first["nextCursor"]
    bad_cursor = await gql(world, HISTORY, owner, code=code, limit=2, cursor="bm90IG9uZQ")
    assert refusal(bad_cursor) == "invalid_cursor"
    not_theirs = await gql(world, HISTORY, stranger, code=code, limit=2)
    rest_not_theirs = await world.http.get(f"/api/v1/coupons/{code}/history", headers=stranger)
    assert same_refusal(rest_not_theirs, not_theirs) == "coupon_not_found"


async def test_stats_and_a_campaigns_allocations(world: World) -> None:
    shop, partner = world.shop(), world.shop()
    campaign = await world.campaign(shop, total_quantity=20)
    coupon, _ = await world.coupon(shop)  # another campaign: not counted
    claimed = await world.claim(campaign, world.customer()[1])
    assert (await world.redeem(shop, claimed["code"])).status_code == 200
    allocation = data(
        await gql(
            world,
            CREATE_ALLOCATION,
            shop.owner,
            campaignId=campaign["id"],
            partner=str(partner.merchant_id),
            quantity=5,
        ),
        "createAllocation",
    )
    assert (allocation["quantity"], allocation["issued"]) == (5, 0)
    too_many = await gql(
        world,
        CREATE_ALLOCATION,
        shop.owner,
        campaignId=campaign["id"],
        partner=str(partner.merchant_id),
        quantity=100,
    )
    assert refusal(too_many) == "sold_out"

    stats = data(await gql(world, STATS, shop.staff, id=campaign["id"]), "campaignStats")
    rest = (
        await world.http.get(f"/api/v1/campaigns/{campaign['id']}/stats", headers=shop.staff)
    ).json()
    assert (stats["issued"], stats["redeemed"], stats["redemptionRate"]) == (1, 1, 1.0)
    assert stats["byOutlet"] == [
        {"outletId": o["outlet_id"], "redeemed": o["redeemed"]} for o in rest["by_outlet"]
    ]
    assert stats["byDistributor"] == [
        {"merchantId": d["merchant_id"], "issued": d["issued"], "redeemed": d["redeemed"]}
        for d in rest["by_distributor"]
    ]
    _, customer = world.customer()
    refused = await gql(world, STATS, customer, id=campaign["id"])
    rest_refused = await world.http.get(
        f"/api/v1/campaigns/{campaign['id']}/stats", headers=customer
    )
    same_refusal(rest_refused, refused)

    shares = data(
        await gql(world, CAMPAIGN_ALLOCATIONS, shop.staff, campaignId=campaign["id"]),
        "campaignAllocations",
    )
    assert shares == {"items": [{"id": allocation["id"], "quantity": 5}], "nextCursor": None}
    by_partner = await gql(world, CAMPAIGN_ALLOCATIONS, partner.owner, campaignId=campaign["id"])
    rest_by_partner = await world.http.get(
        f"/api/v1/campaigns/{campaign['id']}/allocations", headers=partner.owner
    )
    same_refusal(rest_by_partner, by_partner)
    assert coupon["campaign_id"] != campaign["id"]


async def test_a_keyed_mutation_is_replayed_not_run_again(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    user_id = uuid4()
    keyed = shop.staff | {"Idempotency-Key": f"gql-issue-{user_id}"}
    request = {"query": ISSUE, "variables": {"campaignId": campaign["id"], "userId": str(user_id)}}
    first = await world.http.post(URL, json=request, headers=keyed)
    second = await world.http.post(URL, json=request, headers=keyed)
    assert first.status_code == second.status_code == 200, first.text
    assert second.json() == first.json()
    assert "errors" not in first.json(), first.text
    assert second.headers.get("Idempotent-Replayed") == "true"
    owned = await connection.execute(
        text("SELECT count(*) FROM coupons.coupons WHERE owner_user_id = :user"),
        {"user": user_id},
    )
    assert owned.scalar_one() == 1
