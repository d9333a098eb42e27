"""A GraphQL document of several mutations, on real commits: what its answer reports as done
is what stays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import World

URL = "/graphql/coupons"

CLAIM_CODE_THEN_CLAIM = """
mutation ($code: String!, $campaignId: UUID!) {
  byCode: claimCode(code: $code) { id code status }
  byClaim: claimCoupon(campaignId: $campaignId) { id }
}"""


CLAIM_THEN_CLAIM_CODE = """
mutation ($campaignId: UUID!) {
  byClaim: claimCoupon(campaignId: $campaignId) { id }
  byCode: claimCode(code: "ZZZZ-ZZZZ-ZZZZ") { id }
}"""


async def _one_code(world: World, shop: Any, campaign: dict[str, Any]) -> str:
    generated = await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/codes", json={"count": 1}, headers=shop.owner
    )
    assert generated.status_code == 201, generated.text
    listed = await world.http.get(f"/api/v1/campaigns/{campaign['id']}/codes", headers=shop.owner)
    assert listed.status_code == 200, listed.text
    code: str = listed.json()["items"][0]["code"]
    return code


async def test_a_mutation_reported_done_stays_done_when_a_later_one_fails(world: World) -> None:
    shop = world.shop()
    with_codes = await world.campaign(shop, total_quantity=5)
    code = await _one_code(world, shop, with_codes)
    sold_out = await world.campaign(shop, total_quantity=1)
    _, first = world.customer()
    await world.claim(sold_out, first)
    _, customer = world.customer()

    response = await world.http.post(
        URL,
        json={
            "query": CLAIM_CODE_THEN_CLAIM,
            "variables": {"code": code, "campaignId": sold_out["id"]},
        },
        headers=customer,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("errors"), body
    assert [error["extensions"]["code"] for error in body["errors"]] == ["sold_out"]
    reported = (body["data"] or {}).get("byCode")

    # Whatever the answer says was claimed is in the wallet, and nothing else.
    assert await _wallet(world, customer) == ([reported["id"]] if reported else [])


async def test_a_claim_is_undone_with_its_document_when_a_later_mutation_fails(
    world: World,
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=5)
    _, customer = world.customer()

    response = await world.http.post(
        URL,
        json={"query": CLAIM_THEN_CLAIM_CODE, "variables": {"campaignId": campaign["id"]}},
        headers=customer,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [error["extensions"]["code"] for error in body.get("errors") or []] == ["code_not_found"]
    reported = (body["data"] or {}).get("byClaim")
    assert await _wallet(world, customer) == ([reported["id"]] if reported else [])
    # The unit goes back with the coupon: the campaign still has all five.
    read = await world.http.get(f"/api/v1/campaigns/{campaign['id']}", headers=shop.owner)
    assert read.json()["issued_count"] == (1 if reported else 0)


async def _wallet(world: World, customer: Any) -> list[str]:
    wallet = await world.http.get("/api/v1/wallet", headers=customer)
    assert wallet.status_code == 200, wallet.text
    return [coupon["id"] for coupon in wallet.json()["items"]]
