"""The wallet, coupon lookup by code, and a coupon's history from the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.pagination import encode_cursor
from devstack.testing.statements import counting_statements

if TYPE_CHECKING:
    from conftest import World


async def expire(connection: AsyncConnection, coupon: dict[str, Any]) -> None:
    await connection.execute(
        text("UPDATE coupons.coupons SET expires_at = now() - interval '1 minute' WHERE id = :id"),
        {"id": coupon["id"]},
    )


async def test_wallet_holds_own_coupons_with_their_campaign(world: World) -> None:
    shop = world.shop()
    first = await world.campaign(shop, title="First campaign")
    second = await world.campaign(shop, title="Second campaign")
    _, customer = world.customer()
    _, someone_else = world.customer()
    a = await world.claim(first, customer)
    b = await world.claim(second, customer)
    await world.claim(first, someone_else)
    response = await world.http.get("/api/v1/wallet", headers=customer)
    assert response.status_code == 200
    page = response.json()
    assert [c["id"] for c in page["items"]] == [b["id"], a["id"]]
    assert [c["campaign"]["title"] for c in page["items"]] == ["Second campaign", "First campaign"]
    assert page["next_cursor"] is None


async def test_wallet_filters(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    _, customer = world.customer()
    usable = await world.claim(await world.campaign(shop), customer)
    redeemed = await world.claim(await world.campaign(shop), customer)
    assert (await world.redeem(shop, redeemed["code"])).status_code == 200
    expired = await world.claim(await world.campaign(shop), customer)
    await expire(connection, expired)
    voided = await world.claim(await world.campaign(shop), customer)
    await world.http.post(
        f"/api/v1/coupons/{voided['code']}/void", json={"reason": "misprint"}, headers=shop.owner
    )
    paused_campaign = await world.campaign(shop)
    on_hold = await world.claim(paused_campaign, customer)
    await world.http.post(f"/api/v1/campaigns/{paused_campaign['id']}/pause", headers=shop.owner)

    async def wallet(**params: str) -> list[tuple[str, str]]:
        response = await world.http.get("/api/v1/wallet", params=params, headers=customer)
        assert response.status_code == 200, response.text
        return [(c["id"], c["status"]) for c in response.json()["items"]]

    assert await wallet(status="active") == [(usable["id"], "active")]
    assert set(await wallet(status="history")) == {
        (redeemed["id"], "redeemed"),
        (expired["id"], "expired"),
        (voided["id"], "void"),
    }
    assert len(await wallet()) == 5
    assert (on_hold["id"], "active") in await wallet()
    bad = await world.http.get("/api/v1/wallet", params={"status": "all"}, headers=customer)
    assert bad.status_code == 422


async def test_wallet_pages(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=10)
    _, customer = world.customer()
    claimed = [await world.claim(campaign, customer) for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await world.http.get("/api/v1/wallet", params=params, headers=customer)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [c["id"] for c in reversed(claimed)]
    forged = await world.http.get(
        "/api/v1/wallet", params={"cursor": encode_cursor("soon", "x")}, headers=customer
    )
    assert forged.json()["code"] == "invalid_cursor"


async def test_a_made_up_cursor_moves_only_within_the_callers_own_list(world: World) -> None:
    # Cursors are not signed (core.pagination says why): this is what makes that safe.
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=10)
    _, mine = world.customer()
    _, theirs = world.customer()
    own = {(await world.claim(campaign, mine))["id"] for _ in range(2)}
    await world.claim(campaign, theirs)
    for moment, row_id, expected in (
        ("9999-12-30T00:00:00+00:00", "ffffffff-ffff-ffff-ffff-ffffffffffff", own),
        ("2000-01-01T00:00:00+00:00", "00000000-0000-0000-0000-000000000000", set()),
    ):
        page = await world.http.get(
            "/api/v1/wallet", params={"cursor": encode_cursor(moment, row_id)}, headers=mine
        )
        assert {item["id"] for item in page.json()["items"]} == expected


async def test_wallet_reads_campaigns_in_one_query(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    _, few = world.customer()
    _, many = world.customer()
    await world.claim(await world.campaign(shop), few)
    for _ in range(8):
        await world.claim(await world.campaign(shop), many)
    with counting_statements(connection) as for_one:
        assert len((await world.http.get("/api/v1/wallet", headers=few)).json()["items"]) == 1
    with counting_statements(connection) as for_eight:
        assert len((await world.http.get("/api/v1/wallet", headers=many)).json()["items"]) == 8
    assert len(for_eight) == len(for_one)
    assert sum("coupons.campaigns" in s for s in for_eight) == 1


async def test_wallet_is_for_users(world: World) -> None:
    shop = world.shop()
    assert (await world.http.get("/api/v1/wallet")).status_code == 401
    assert (await world.http.get("/api/v1/wallet", headers=shop.partner)).status_code == 403


async def test_lookup_matrix(world: World) -> None:
    shop, other = world.shop(), world.shop()
    coupon, owner = await world.coupon(shop)
    _, stranger = world.customer()
    path = f"/api/v1/coupons/{coupon['code']}"
    for headers in (owner, shop.owner, shop.staff, world.admin()):
        response = await world.http.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert response.json()["id"] == coupon["id"]
        assert response.json()["campaign"]["id"] == coupon["campaign_id"]
    for headers in (stranger, other.owner, other.staff, shop.partner):
        response = await world.http.get(path, headers=headers)
        assert response.status_code == 404
        assert response.json()["code"] == "coupon_not_found"
    assert (await world.http.get(path)).status_code == 401


async def test_lookup_accepts_the_code_as_typed(world: World) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    code = coupon["code"]
    typed = f"{code[:4].lower()}-{code[4:8]}-{code[8:]}"
    response = await world.http.get(f"/api/v1/coupons/{typed}", headers=owner)
    assert response.status_code == 200
    assert (await world.http.get("/api/v1/coupons/NOSUCHCODE22", headers=owner)).status_code == 404


async def test_history_tells_the_coupons_story(world: World) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    code = coupon["code"]
    await world.redeem(shop, code, order_amount=2000, order_reference="R-1")
    await world.http.post(
        f"/api/v1/coupons/{code}/reverse-redemption",
        json={"reason": "till error"},
        headers=shop.owner,
    )
    await world.http.post(
        f"/api/v1/coupons/{code}/void", json={"reason": "fraud"}, headers=shop.owner
    )
    response = await world.http.get(f"/api/v1/coupons/{code}/history", headers=owner)
    assert response.status_code == 200, response.text
    history = response.json()["items"]
    assert response.json()["next_cursor"] is None
    assert [e["type"] for e in history] == [
        "coupon.claimed",
        "coupon.redeemed",
        "coupon.redemption_reversed",
        "coupon.voided",
    ]
    assert all(set(e) == {"event_id", "type", "actor", "at", "data"} for e in history)
    assert [e["at"] for e in history] == sorted(e["at"] for e in history)
    assert history[1]["actor"] == str(shop.staff_id)
    assert history[1]["data"]["order_reference"] == "R-1"
    assert history[2]["data"]["reason"] == "till error"
    assert all(code not in str(e) for e in history)


@pytest.mark.parametrize("who", ["owner", "staff", "admin", "coupon_owner"])
async def test_history_readers(world: World, who: str) -> None:
    shop = world.shop()
    coupon, customer = await world.coupon(shop)
    headers = {
        "owner": shop.owner,
        "staff": shop.staff,
        "admin": world.admin(),
        "coupon_owner": customer,
    }[who]
    response = await world.http.get(f"/api/v1/coupons/{coupon['code']}/history", headers=headers)
    assert response.status_code == 200
    assert [e["type"] for e in response.json()["items"]] == ["coupon.claimed"]


async def test_history_is_hidden_from_others(world: World) -> None:
    shop, other = world.shop(), world.shop()
    coupon, _ = await world.coupon(shop)
    _, stranger = world.customer()
    for headers in (stranger, other.owner, other.staff, other.partner):
        response = await world.http.get(
            f"/api/v1/coupons/{coupon['code']}/history", headers=headers
        )
        assert response.status_code == 404


async def test_history_and_lookup_agree_on_who_reads_a_coupon(world: World) -> None:
    """A partner client redeems and validates, but reads neither the coupon nor its
    history: "merchant members" are the merchant's people, its owner and staff."""
    shop = world.shop()
    coupon, customer = await world.coupon(shop)
    base = f"/api/v1/coupons/{coupon['code']}"
    readers = (customer, shop.owner, shop.staff, world.admin())
    for headers in readers:
        assert (await world.http.get(base, headers=headers)).status_code == 200
        assert (await world.http.get(f"{base}/history", headers=headers)).status_code == 200
    for headers in (shop.partner, world.customer()[1]):
        lookup = await world.http.get(base, headers=headers)
        history = await world.http.get(f"{base}/history", headers=headers)
        assert (lookup.status_code, history.status_code) == (404, 404)
        assert lookup.json()["code"] == history.json()["code"] == "coupon_not_found"


async def test_history_while_the_audit_table_is_unavailable_is_503(world: World, aws: Any) -> None:
    shop = world.shop()
    coupon, customer = await world.coupon(shop)
    aws.delete_table(TableName="test-audit")
    response = await world.http.get(f"/api/v1/coupons/{coupon['code']}/history", headers=customer)
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "audit_unavailable"
    assert int(response.headers["retry-after"]) > 0
