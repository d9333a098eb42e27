"""Validate, redeem, reverse, void, and the campaign's stats."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

if TYPE_CHECKING:
    from conftest import Shop, World


async def set_coupon(connection: AsyncConnection, coupon: dict[str, Any], assignment: str) -> None:
    await connection.execute(
        # The SET clause is one of the tests' own constants.
        text(f"UPDATE coupons.coupons SET {assignment} WHERE id = :id"),  # noqa: S608
        {"id": coupon["id"]},
    )


async def validate(world: World, shop: Shop, code: str, **body: Any) -> Any:
    return await world.http.post(
        f"/api/v1/coupons/{code}/validate",
        json={"outlet_id": str(shop.outlet_id), **body},
        headers=shop.staff,
    )


async def test_redeem(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop, discount_value=15)
    response = await world.redeem(shop, coupon["code"], order_amount=1999, order_reference="T-42")
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert {"redemption_id", "coupon", "discount_amount", "redeemed_at"} <= set(receipt)
    assert receipt["discount_amount"] == 299  # 15% of 19.99, rounded down
    assert receipt["coupon"]["status"] == "redeemed"
    assert receipt["coupon"]["redeemed_at"] == receipt["redeemed_at"]
    assert receipt["order_reference"] == "T-42"
    campaign = (await world.http.get(f"/api/v1/campaigns/{coupon['campaign_id']}")).json()
    assert campaign["redeemed_count"] == 1
    row = (
        await connection.execute(
            text("SELECT outlet_id, redeemed_by FROM coupons.redemptions WHERE id = :id"),
            {"id": receipt["redemption_id"]},
        )
    ).one()
    assert (str(row.outlet_id), row.redeemed_by) == (str(shop.outlet_id), str(shop.staff_id))


@pytest.mark.parametrize(
    ("campaign", "order_amount", "discount"),
    [
        ({"discount_value": 10}, 995, 99),
        ({"discount_value": 90}, 1, 0),
        ({"discount_value": 10}, None, None),
        ({"discount_type": "fixed_amount", "discount_value": 500, "currency": "EUR"}, 1200, 500),
        ({"discount_type": "fixed_amount", "discount_value": 500, "currency": "EUR"}, 300, 300),
        ({"discount_type": "fixed_amount", "discount_value": 500, "currency": "EUR"}, None, 500),
    ],
)
async def test_discount_amount(
    world: World, campaign: dict[str, Any], order_amount: int | None, discount: int | None
) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop, **campaign)
    body = {} if order_amount is None else {"order_amount": order_amount}
    checked = await validate(world, shop, coupon["code"], **body)
    assert checked.json() == {"valid": True, "reason": None, "discount_amount": discount}
    response = await world.redeem(shop, coupon["code"], **body)
    assert response.json()["discount_amount"] == discount


async def test_redeem_twice_is_409(world: World) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    assert (await world.redeem(shop, coupon["code"])).status_code == 200
    again = await world.redeem(shop, coupon["code"])
    assert again.status_code == 409
    assert again.json()["code"] == "already_redeemed"


@pytest.mark.parametrize(
    ("assignment", "code"),
    [
        ("expires_at = now() - interval '1 second'", "coupon_expired"),
        ("status = 'expired'", "coupon_expired"),
        ("status = 'void'", "coupon_void"),
        ("status = 'reserved'", "coupon_locked"),
        ("status = 'unassigned', owner_user_id = NULL", "coupon_not_claimed"),
    ],
)
async def test_coupon_states_that_refuse(
    world: World, connection: AsyncConnection, assignment: str, code: str
) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    await set_coupon(connection, coupon, assignment)
    response = await world.redeem(shop, coupon["code"])
    assert response.status_code == 409
    assert response.json()["code"] == code
    checked = await validate(world, shop, coupon["code"])
    assert checked.json() == {"valid": False, "reason": code, "discount_amount": None}


async def test_campaign_must_be_active(world: World) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    await world.http.post(f"/api/v1/campaigns/{coupon['campaign_id']}/pause", headers=shop.owner)
    response = await world.redeem(shop, coupon["code"])
    assert response.status_code == 409
    assert response.json()["code"] == "campaign_not_active"


async def test_suspended_merchant_redeems_nothing(world: World, aws: Any) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    world.merchants.set_status(shop.merchant_id, "suspended")
    world.merchants.hidden.add(shop.merchant_id)
    aws.delete_item(
        TableName="test-cache", Key={"pk": {"S": f"coupons#merchant#{shop.merchant_id}"}}
    )
    response = await world.redeem(shop, coupon["code"])
    assert response.status_code == 409
    assert response.json()["code"] == "merchant_not_verified"


async def test_outlets(world: World) -> None:
    shop, other = world.shop(), world.shop()
    second_outlet = world.merchants.add_outlet(shop.merchant_id)
    anywhere, _ = await world.coupon(shop)
    elsewhere = await world.redeem(shop, anywhere["code"], outlet_id=str(other.outlet_id))
    assert elsewhere.status_code == 409
    assert elsewhere.json()["code"] == "outlet_not_allowed"
    unknown = await world.redeem(shop, anywhere["code"], outlet_id=str(uuid4()))
    assert unknown.json()["code"] == "outlet_not_allowed"
    assert (
        await world.redeem(shop, anywhere["code"], outlet_id=str(second_outlet))
    ).status_code == 200
    limited, _ = await world.coupon(shop, outlet_ids=[str(shop.outlet_id)])
    refused = await world.redeem(shop, limited["code"], outlet_id=str(second_outlet))
    assert refused.json()["code"] == "outlet_not_allowed"
    assert (await world.redeem(shop, limited["code"])).status_code == 200


async def test_min_spend(world: World) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop, min_spend=5000)
    for body in ({"order_amount": 4999}, {}):
        response = await world.redeem(shop, coupon["code"], **body)
        assert response.status_code == 409
        assert response.json()["code"] == "min_spend_not_met"
    assert (await world.redeem(shop, coupon["code"], order_amount=5000)).status_code == 200


async def test_validate_changes_nothing(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    for _ in range(2):
        checked = await validate(world, shop, coupon["code"], order_amount=1000)
        assert checked.json() == {"valid": True, "reason": None, "discount_amount": 100}
    looked_up = await world.http.get(f"/api/v1/coupons/{coupon['code']}", headers=owner)
    assert looked_up.json()["status"] == "active"
    count = (
        await connection.execute(
            text("SELECT count(*) FROM coupons.outbox WHERE entity_id = :id"), {"id": coupon["id"]}
        )
    ).scalar_one()
    assert count == 1  # coupon.claimed, nothing since
    wrong_outlet = await validate(world, shop, coupon["code"], outlet_id=str(uuid4()))
    assert wrong_outlet.json()["reason"] == "outlet_not_allowed"


async def test_who_redeems(world: World) -> None:
    shop, other = world.shop(), world.shop()
    coupon, owner = await world.coupon(shop)
    _, stranger = world.customer()
    body = {"outlet_id": str(shop.outlet_id)}
    path = f"/api/v1/coupons/{coupon['code']}/redeem"
    for headers in (other.owner, other.staff, other.partner, stranger, world.admin()):
        response = await world.http.post(path, json=body, headers=headers)
        assert response.status_code == 404, response.text
    # The coupon's owner knows it exists, but may not redeem it themselves.
    assert (await world.http.post(path, json=body, headers=owner)).status_code == 403
    read_only_partner = world.headers(
        subject="partner-read-only",
        client_id="partner-read-only",
        roles=(),
        scope="coupons:read",
        memberships=((shop.merchant_id, "partner"),),
    )
    assert (await world.http.post(path, json=body, headers=read_only_partner)).status_code == 403
    validated = await world.http.post(
        f"/api/v1/coupons/{coupon['code']}/validate", json=body, headers=read_only_partner
    )
    assert validated.status_code == 200
    assert (await world.http.post(path, json=body)).status_code == 401
    response = await world.http.post(path, json=body, headers=shop.partner)
    assert response.status_code == 200


@pytest.mark.parametrize("who", ["owner", "staff"])
async def test_owner_and_staff_redeem(world: World, who: str) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    response = await world.http.post(
        f"/api/v1/coupons/{coupon['code']}/redeem",
        json={"outlet_id": str(shop.outlet_id)},
        headers=shop.owner if who == "owner" else shop.staff,
    )
    assert response.status_code == 200


async def test_redeem_replays_with_the_same_idempotency_key(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    path = f"/api/v1/coupons/{coupon['code']}/redeem"
    headers = {**shop.staff, "Idempotency-Key": "till-7-receipt-1"}
    body = {"outlet_id": str(shop.outlet_id), "order_amount": 1000}
    first = await world.http.post(path, json=body, headers=headers)
    second = await world.http.post(path, json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    changed = await world.http.post(path, json={**body, "order_amount": 5}, headers=headers)
    assert changed.status_code == 422
    assert changed.json()["code"] == "idempotency_key_reused"
    without_key = await world.http.post(path, json=body, headers=shop.staff)
    assert without_key.json()["code"] == "already_redeemed"
    redemptions = (
        await connection.execute(
            text("SELECT count(*) FROM coupons.redemptions WHERE coupon_id = :id"),
            {"id": coupon["id"]},
        )
    ).scalar_one()
    assert redemptions == 1


async def test_reverse_a_redemption(world: World) -> None:
    shop = world.shop()
    coupon, _owner = await world.coupon(shop)
    await world.redeem(shop, coupon["code"])
    path = f"/api/v1/coupons/{coupon['code']}/reverse-redemption"
    assert (
        await world.http.post(path, json={"reason": "x"}, headers=shop.staff)
    ).status_code == 403
    response = await world.http.post(path, json={"reason": "charged twice"}, headers=shop.owner)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active"
    assert response.json()["redeemed_at"] is None
    campaign = (await world.http.get(f"/api/v1/campaigns/{coupon['campaign_id']}")).json()
    assert campaign["redeemed_count"] == 0
    again = await world.http.post(path, json={"reason": "again"}, headers=shop.owner)
    assert again.status_code == 409
    assert again.json()["code"] == "not_redeemed"
    # Active again, it can be redeemed again.
    assert (await world.redeem(shop, coupon["code"])).status_code == 200


async def test_reversal_window(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    await world.redeem(shop, coupon["code"])
    await connection.execute(
        text(
            "UPDATE coupons.redemptions SET redeemed_at = now() - interval '25 hours' "
            "WHERE coupon_id = :id"
        ),
        {"id": coupon["id"]},
    )
    response = await world.http.post(
        f"/api/v1/coupons/{coupon['code']}/reverse-redemption",
        json={"reason": "late"},
        headers=shop.owner,
    )
    assert response.status_code == 409
    assert response.json()["code"] == "reversal_window_passed"


async def test_reverse_needs_a_reason(world: World) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    response = await world.http.post(
        f"/api/v1/coupons/{coupon['code']}/reverse-redemption", json={}, headers=shop.owner
    )
    assert response.status_code == 422


@pytest.mark.parametrize("who", ["owner", "admin"])
async def test_void(world: World, who: str) -> None:
    shop = world.shop()
    coupon, _customer = await world.coupon(shop)
    headers = shop.owner if who == "owner" else world.admin()
    path = f"/api/v1/coupons/{coupon['code']}/void"
    response = await world.http.post(path, json={"reason": "printed by mistake"}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "void"
    again = await world.http.post(path, json={"reason": "again"}, headers=headers)
    assert again.status_code == 409
    assert again.json()["code"] == "coupon_void"
    redeem = await world.redeem(shop, coupon["code"])
    assert redeem.json()["code"] == "coupon_void"


async def test_void_who_and_when(world: World) -> None:
    shop, other = world.shop(), world.shop()
    coupon, customer = await world.coupon(shop)
    path = f"/api/v1/coupons/{coupon['code']}/void"
    body = {"reason": "nope"}
    for headers in (shop.staff, customer):
        assert (await world.http.post(path, json=body, headers=headers)).status_code == 403
    assert (await world.http.post(path, json=body, headers=other.owner)).status_code == 404
    await world.redeem(shop, coupon["code"])
    redeemed = await world.http.post(path, json=body, headers=shop.owner)
    assert redeemed.status_code == 409
    assert redeemed.json()["code"] == "already_redeemed"


async def test_stats(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    second_outlet = world.merchants.add_outlet(shop.merchant_id)
    campaign = await world.campaign(shop, per_customer_limit=10)
    _, customer = world.customer()
    coupons = [await world.claim(campaign, customer) for _ in range(6)]
    await world.redeem(shop, coupons[0]["code"])
    await world.redeem(shop, coupons[1]["code"])
    await world.redeem(shop, coupons[2]["code"], outlet_id=str(second_outlet))
    await world.redeem(shop, coupons[3]["code"], outlet_id=str(second_outlet))
    await world.http.post(
        f"/api/v1/coupons/{coupons[3]['code']}/reverse-redemption",
        json={"reason": "mistake"},
        headers=shop.owner,
    )
    await world.http.post(
        f"/api/v1/coupons/{coupons[4]['code']}/void", json={"reason": "x"}, headers=shop.owner
    )
    await set_coupon(connection, coupons[5], "expires_at = now() - interval '1 minute'")
    await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/codes", json={"count": 4}, headers=shop.owner
    )
    path = f"/api/v1/campaigns/{campaign['id']}/stats"
    response = await world.http.get(path, headers=shop.staff)
    assert response.status_code == 200, response.text
    stats = response.json()
    assert {k: stats[k] for k in ("issued", "redeemed", "active", "expired", "voided")} == {
        "issued": 6,
        "redeemed": 3,
        "active": 1,  # the reversed one
        "expired": 1,
        "voided": 1,
    }
    assert stats["unassigned"] == 4
    assert stats["redemption_rate"] == 0.5
    assert stats["by_outlet"] == [
        {"outlet_id": str(shop.outlet_id), "redeemed": 2},
        {"outlet_id": str(second_outlet), "redeemed": 1},
    ]


async def test_stats_readers(world: World) -> None:
    shop, other = world.shop(), world.shop()
    campaign = await world.campaign(shop)
    draft = await world.campaign(shop, publish=False)
    _, customer = world.customer()
    path = f"/api/v1/campaigns/{campaign['id']}/stats"
    assert (await world.http.get(path, headers=shop.owner)).json()["redemption_rate"] == 0.0
    for headers in (shop.partner, customer, other.owner):
        assert (await world.http.get(path, headers=headers)).status_code == 403
    hidden = await world.http.get(f"/api/v1/campaigns/{draft['id']}/stats", headers=customer)
    assert hidden.status_code == 404


def stale_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unlocked reads answer as things were a moment ago: the coupon active, its campaign
    active. What a request sees when another changes them between its check and its write."""
    import dataclasses

    from svc_coupons.repositories.campaigns import CampaignRepository
    from svc_coupons.repositories.coupons import CouponRepository
    from svc_coupons.services.data_model.campaigns import CampaignStatus
    from svc_coupons.services.data_model.coupons import CouponStatus

    real_campaign, real_coupon = CampaignRepository.get, CouponRepository.by_code
    seen: set[str] = set()

    async def stale_campaign(self: CampaignRepository, campaign_id: Any) -> Any:
        campaign = await real_campaign(self, campaign_id)
        return campaign and dataclasses.replace(campaign, status=CampaignStatus.ACTIVE)

    async def stale_coupon(self: CouponRepository, code: str) -> Any:
        coupon = await real_coupon(self, code)
        if coupon is None or code in seen:
            return coupon  # the service's second look, after its write lost, is fresh
        seen.add(code)
        return dataclasses.replace(coupon, stored_status=CouponStatus.ACTIVE)

    monkeypatch.setattr(CampaignRepository, "get", stale_campaign)
    monkeypatch.setattr(CouponRepository, "by_code", stale_coupon)


@pytest.mark.parametrize("status", ["paused", "ended"])
async def test_redeem_is_gated_on_the_campaign_in_sql(
    world: World, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch, status: str
) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    await connection.execute(
        text("UPDATE coupons.campaigns SET status = :status WHERE id = :id"),
        {"status": status, "id": coupon["campaign_id"]},
    )
    stale_reads(monkeypatch)
    response = await world.redeem(shop, coupon["code"], order_amount=1000)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "campaign_not_active"
    stored = (
        await connection.execute(
            text(
                "SELECT c.status, (SELECT count(*) FROM coupons.redemptions r "
                "WHERE r.coupon_id = c.id) FROM coupons.coupons c WHERE c.id = :id"
            ),
            {"id": coupon["id"]},
        )
    ).one()
    assert tuple(stored) == ("active", 0)


async def test_void_records_the_status_it_changed(
    world: World, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    # A transfer reserved it after the void's first look.
    await set_coupon(connection, coupon, "status = 'reserved'")
    stale_reads(monkeypatch)
    response = await world.http.post(
        f"/api/v1/coupons/{coupon['code']}/void", json={"reason": "fraud"}, headers=shop.owner
    )
    assert response.status_code == 200, response.text
    data = (
        await connection.execute(
            text(
                "SELECT data FROM coupons.outbox WHERE entity_id = :id AND type = 'coupon.voided'"
            ),
            {"id": coupon["id"]},
        )
    ).scalar_one()
    assert data == {"reason": "fraud", "from": "reserved"}


async def test_void_lost_to_a_redeem_says_so(
    world: World, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    assert (await world.redeem(shop, coupon["code"])).status_code == 200
    stale_reads(monkeypatch)
    response = await world.http.post(
        f"/api/v1/coupons/{coupon['code']}/void", json={"reason": "late"}, headers=shop.owner
    )
    assert response.status_code == 409
    assert response.json()["code"] == "already_redeemed"
