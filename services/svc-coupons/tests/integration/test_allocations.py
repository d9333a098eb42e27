"""Partner allocations over HTTP: a share taken from the campaign's quantity, coupons issued
from it by the partner's people only, and stats by distributor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from conftest import Headers, Shop, World


async def allocate(world: World, campaign: dict[str, Any], partner: Shop, quantity: int) -> Any:
    return await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/allocations",
        json={"partner_merchant_id": str(partner.merchant_id), "quantity": quantity},
        headers=world_owner(world, campaign),
    )


def world_owner(world: World, campaign: dict[str, Any]) -> Headers:
    return world.headers(subject=uuid4(), memberships=((campaign["merchant_id"], "owner"),))


async def issue(world: World, allocation_id: str, headers: Headers) -> Any:
    return await world.http.post(
        f"/api/v1/allocations/{allocation_id}/issue",
        json={"user_id": str(uuid4())},
        headers=headers,
    )


def partner_client(world: World, shop: Shop, scope: str) -> Headers:
    return world.headers(
        subject=f"partner-{shop.merchant_id.hex[:8]}",
        client_id=f"partner-{shop.merchant_id.hex[:8]}",
        roles=(),
        scope=scope,
        memberships=((shop.merchant_id, "partner"),),
    )


async def test_a_share_is_taken_from_the_total_and_issued_by_the_partner(
    world: World, connection: AsyncConnection
) -> None:
    shop, partner = world.shop(), world.shop()
    campaign = await world.campaign(shop, total_quantity=10)
    response = await allocate(world, campaign, partner, 4)
    assert response.status_code == 201, response.text
    allocation = response.json()
    assert {k: allocation[k] for k in ("campaign_id", "quantity", "issued")} == {
        "campaign_id": campaign["id"],
        "quantity": 4,
        "issued": 0,
    }
    assert allocation["partner_merchant_id"] == str(partner.merchant_id)
    seen = (await world.http.get(f"/api/v1/campaigns/{campaign['id']}", headers=shop.owner)).json()
    assert seen["issued_count"] == 4
    too_many = await allocate(world, campaign, partner, 7)
    assert (too_many.status_code, too_many.json()["code"]) == (409, "sold_out")

    issuers = [partner.owner, partner.staff, partner_client(world, partner, "coupons:write")]
    for headers in issuers:
        response = await issue(world, allocation["id"], headers)
        assert response.status_code == 201, response.text
        assert response.json()["campaign_id"] == campaign["id"]
        assert response.json()["status"] == "active"
    # Nobody else issues from it: the campaign's own people know it (403), others do not.
    assert (await issue(world, allocation["id"], shop.owner)).status_code == 403
    assert (await issue(world, allocation["id"], shop.staff)).status_code == 403
    assert (await issue(world, allocation["id"], world.customer()[1])).status_code == 404
    reader = partner_client(world, partner, "coupons:read coupons:redeem")
    assert (await issue(world, allocation["id"], reader)).status_code == 403
    assert (await issue(world, allocation["id"], partner.owner)).status_code == 201
    exhausted = await issue(world, allocation["id"], partner.owner)
    assert (exhausted.status_code, exhausted.json()["code"]) == (409, "allocation_exhausted")

    distributor = await connection.execute(
        text(
            "SELECT count(*) FROM coupons.coupons"
            " WHERE allocation_id = :id AND distributor_merchant_id = :partner"
        ),
        {"id": allocation["id"], "partner": partner.merchant_id},
    )
    assert distributor.scalar_one() == 4
    # The claims share what is left of the total: 6.
    for _ in range(6):
        await world.claim(campaign, world.customer()[1])
    sold_out = await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/claim", headers=world.customer()[1]
    )
    assert sold_out.json()["code"] == "sold_out"

    stats = await world.http.get(f"/api/v1/campaigns/{campaign['id']}/stats", headers=shop.staff)
    assert stats.status_code == 200
    by_distributor = {d["merchant_id"]: d for d in stats.json()["by_distributor"]}
    assert by_distributor == {
        str(shop.merchant_id): {"merchant_id": str(shop.merchant_id), "issued": 6, "redeemed": 0},
        str(partner.merchant_id): {
            "merchant_id": str(partner.merchant_id),
            "issued": 4,
            "redeemed": 0,
        },
    }
    assert stats.json()["issued"] == 10
    found = await world.http.get(f"/api/v1/allocations/{allocation['id']}", headers=partner.staff)
    assert found.json()["issued"] == 4
    mine = await world.http.get(
        f"/api/v1/allocations?merchant_id={partner.merchant_id}", headers=partner.owner
    )
    assert [a["id"] for a in mine.json()["items"]] == [allocation["id"]]
    theirs = await world.http.get(
        f"/api/v1/campaigns/{campaign['id']}/allocations", headers=shop.staff
    )
    assert [a["id"] for a in theirs.json()["items"]] == [allocation["id"]]
    outsider = await world.http.get(
        f"/api/v1/allocations?merchant_id={partner.merchant_id}", headers=shop.owner
    )
    assert outsider.status_code == 403


async def test_allocation_rules(world: World) -> None:
    shop, partner = world.shop(), world.shop()
    campaign = await world.campaign(shop, total_quantity=10)
    own = await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/allocations",
        json={"partner_merchant_id": str(shop.merchant_id), "quantity": 1},
        headers=shop.owner,
    )
    assert (own.status_code, own.json()["code"]) == (422, "invalid_partner")
    staff = await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/allocations",
        json={"partner_merchant_id": str(partner.merchant_id), "quantity": 1},
        headers=shop.staff,
    )
    assert staff.status_code == 403
    zero = await allocate(world, campaign, partner, 0)
    assert zero.status_code == 422
    pending = world.shop(status="pending")
    response = await allocate(world, campaign, pending, 1)
    assert (response.status_code, response.json()["code"]) == (409, "merchant_not_verified")
    allocation = (await allocate(world, campaign, partner, 2)).json()
    await world.http.post(f"/api/v1/campaigns/{campaign['id']}/pause", headers=shop.owner)
    response = await issue(world, allocation["id"], partner.owner)
    assert (response.status_code, response.json()["code"]) == (409, "campaign_not_active")
    await world.http.post(f"/api/v1/campaigns/{campaign['id']}/end", headers=shop.owner)
    response = await allocate(world, campaign, partner, 1)
    assert (response.status_code, response.json()["code"]) == (409, "campaign_not_active")


async def test_the_per_customer_limit_holds_for_partner_issues(world: World) -> None:
    shop, partner = world.shop(), world.shop()
    campaign = await world.campaign(shop, per_customer_limit=1)
    allocation = (await allocate(world, campaign, partner, 5)).json()
    user_id, customer = world.customer()
    await world.claim(campaign, customer)
    response = await world.http.post(
        f"/api/v1/allocations/{allocation['id']}/issue",
        json={"user_id": str(user_id)},
        headers=partner.staff,
    )
    assert (response.status_code, response.json()["code"]) == (409, "limit_reached")
