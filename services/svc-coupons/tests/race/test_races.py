"""Limits under real concurrency: many requests at once, each in its own transaction on its
own connection, committing for real. The counts must hold whatever the interleaving."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from conftest import World


async def counts(engine: AsyncEngine, campaign_id: str) -> tuple[int, int, int]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT (SELECT sum(taken) FROM coupons.campaign_units"
                    " WHERE campaign_id = :id),"
                    " redeemed_count, "
                    "(SELECT count(*) FROM coupons.coupons WHERE campaign_id = :id) "
                    "FROM coupons.campaigns WHERE id = :id"
                ),
                {"id": campaign_id},
            )
        ).one()
    return row[0], row[1], row[2]


def outcomes(responses: list[Any]) -> Counter[Any]:
    return Counter(r.status_code if r.status_code < 400 else r.json()["code"] for r in responses)


async def test_200_customers_claim_50_coupons(world: World, migrated_engine: AsyncEngine) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=50)
    customers = [world.customer()[1] for _ in range(200)]
    responses = await asyncio.gather(
        *(
            world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=customer)
            for customer in customers
        )
    )
    assert outcomes(responses) == {201: 50, "sold_out": 150}
    codes = {r.json()["code"] for r in responses if r.status_code == 201}
    assert len(codes) == 50
    assert await counts(migrated_engine, campaign["id"]) == (50, 0, 50)


async def test_25_redeems_of_one_coupon_redeem_it_once(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    responses = await asyncio.gather(
        *(world.redeem(shop, coupon["code"], order_amount=1000) for _ in range(25))
    )
    assert outcomes(responses) == {200: 1, "already_redeemed": 24}
    async with migrated_engine.connect() as connection:
        redemptions = (
            await connection.execute(
                text("SELECT count(*) FROM coupons.redemptions WHERE coupon_id = :id"),
                {"id": coupon["id"]},
            )
        ).scalar_one()
    assert redemptions == 1
    assert await counts(migrated_engine, coupon["campaign_id"]) == (1, 1, 1)


async def test_one_customer_claiming_20_times_at_once_gets_their_3(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=3, total_quantity=50)
    _, customer = world.customer()
    responses = await asyncio.gather(
        *(
            world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=customer)
            for _ in range(20)
        )
    )
    assert outcomes(responses) == {201: 3, "limit_reached": 17}
    assert await counts(migrated_engine, campaign["id"]) == (3, 0, 3)


async def test_codes_and_claims_together_never_exceed_the_total(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=100)
    code_batches = [
        world.http.post(
            f"/api/v1/campaigns/{campaign['id']}/codes", json={"count": 15}, headers=shop.owner
        )
        for _ in range(5)
    ]
    claims = [
        world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=world.customer()[1])
        for _ in range(60)
    ]
    everything = code_batches + claims
    responses = await asyncio.gather(*everything)
    batches, claimed = responses[: len(code_batches)], responses[len(code_batches) :]
    generated = 15 * sum(r.status_code == 201 for r in batches)
    issued = sum(r.status_code == 201 for r in claimed)
    assert all(r.status_code == 201 or r.json()["code"] == "sold_out" for r in responses), outcomes(
        responses
    )
    assert generated + issued <= 100
    # Demand (135) exceeds supply: what was refused was refused because too little was left.
    assert generated + issued > 100 - 15
    assert await counts(migrated_engine, campaign["id"]) == (
        generated + issued,
        0,
        generated + issued,
    )


async def unassigned_codes(
    world: World, shop: Any, campaign: dict[str, Any], count: int
) -> list[str]:
    generated = await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/codes", json={"count": count}, headers=shop.owner
    )
    assert generated.status_code == 201, generated.text
    listed = await world.http.get(
        f"/api/v1/campaigns/{campaign['id']}/codes", params={"limit": 100}, headers=shop.owner
    )
    return [item["code"] for item in listed.json()["items"]]


async def test_20_customers_claiming_one_code_one_gets_it(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    (code,) = await unassigned_codes(world, shop, campaign, 1)
    responses = await asyncio.gather(
        *(
            world.http.post("/api/v1/coupons/claim", json={"code": code}, headers=customer)
            for customer in [world.customer()[1] for _ in range(20)]
        )
    )
    assert outcomes(responses) == {201: 1, "code_already_claimed": 19}
    (winner,) = [r.json() for r in responses if r.status_code == 201]
    async with migrated_engine.connect() as connection:
        owner, status, claims = (
            await connection.execute(
                text(
                    "SELECT owner_user_id::text, status, (SELECT coalesce(sum(claimed), 0) "
                    "FROM coupons.customer_claims WHERE campaign_id = :campaign) "
                    "FROM coupons.coupons WHERE code = :code"
                ),
                {"code": code, "campaign": campaign["id"]},
            )
        ).one()
    assert (owner, status) == (winner["owner_user_id"], "active")
    assert claims == 1  # the losers' per-customer counts were rolled back
    assert await counts(migrated_engine, campaign["id"]) == (1, 0, 1)


async def test_10_reversals_of_one_redemption_reverse_it_once(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    assert (await world.redeem(shop, coupon["code"], order_amount=1000)).status_code == 200
    assert await counts(migrated_engine, coupon["campaign_id"]) == (1, 1, 1)
    responses = await asyncio.gather(
        *(
            world.http.post(
                f"/api/v1/coupons/{coupon['code']}/reverse-redemption",
                json={"reason": f"till error {i}"},
                headers=shop.owner,
            )
            for i in range(10)
        )
    )
    assert outcomes(responses) == {200: 1, "not_redeemed": 9}
    assert await counts(migrated_engine, coupon["campaign_id"]) == (1, 0, 1)
    async with migrated_engine.connect() as connection:
        reversed_, events = (
            await connection.execute(
                text(
                    "SELECT (SELECT count(*) FROM coupons.redemptions "
                    "        WHERE coupon_id = :id AND reversed_at IS NOT NULL), "
                    "       (SELECT count(*) FROM coupons.outbox "
                    "        WHERE entity_id = :sid AND type = 'coupon.redemption_reversed')"
                ),
                {"id": coupon["id"], "sid": coupon["id"]},
            )
        ).one()
    assert (reversed_, events) == (1, 1)


async def test_redeem_and_void_of_one_coupon_one_wins(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    coupons = [await world.claim(campaign, world.customer()[1]) for _ in range(8)]

    async def race(code: str) -> tuple[Any, Any]:
        redeem, void = await asyncio.gather(
            world.redeem(shop, code, order_amount=1000),
            world.http.post(
                f"/api/v1/coupons/{code}/void", json={"reason": "fraud"}, headers=shop.owner
            ),
        )
        return redeem, void

    results = await asyncio.gather(*(race(c["code"]) for c in coupons))
    redeemed = 0
    for redeem, void in results:
        pair = (
            redeem.status_code if redeem.status_code < 400 else redeem.json()["code"],
            void.status_code if void.status_code < 400 else void.json()["code"],
        )
        assert pair in {(200, "already_redeemed"), ("coupon_void", 200)}, pair
        redeemed += redeem.status_code == 200
    async with migrated_engine.connect() as connection:
        stored = Counter(
            (
                await connection.execute(
                    text("SELECT status FROM coupons.coupons WHERE campaign_id = :id"),
                    {"id": campaign["id"]},
                )
            ).scalars()
        )
        voided_from = Counter(
            (
                await connection.execute(
                    text(
                        "SELECT data->>'from' FROM coupons.outbox "
                        "WHERE type = 'coupon.voided' AND entity_id = ANY(:ids)"
                    ),
                    {"ids": [c["id"] for c in coupons]},
                )
            ).scalars()
        )
    assert stored == Counter({"redeemed": redeemed, "void": 8 - redeemed})
    assert voided_from == Counter({"active": 8 - redeemed})
    assert await counts(migrated_engine, campaign["id"]) == (8, redeemed, 8)


async def test_claims_racing_the_end_of_the_campaign(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    codes = await unassigned_codes(world, shop, campaign, 15)
    claims = [
        world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=world.customer()[1])
        for _ in range(30)
    ]
    code_claims = [
        world.http.post("/api/v1/coupons/claim", json={"code": code}, headers=world.customer()[1])
        for code in codes
    ]
    end = world.http.post(f"/api/v1/campaigns/{campaign['id']}/end", headers=shop.owner)
    everything = claims[:15] + code_claims[:8] + [end] + claims[15:] + code_claims[8:]
    responses = await asyncio.gather(*everything)
    ended = responses[23]
    assert ended.status_code == 200, ended.text
    claimed = responses[:23] + responses[24:]
    assert set(outcomes(claimed)) <= {201, "campaign_not_active"}, outcomes(claimed)
    by_code = sum(
        r.status_code == 201 for r in claimed if r.request.url.path == "/api/v1/coupons/claim"
    )
    by_campaign = sum(r.status_code == 201 for r in claimed) - by_code
    async with migrated_engine.connect() as connection:
        assigned = (
            await connection.execute(
                text(
                    "SELECT count(*) FROM coupons.coupons "
                    "WHERE campaign_id = :id AND owner_user_id IS NOT NULL"
                ),
                {"id": campaign["id"]},
            )
        ).scalar_one()
    assert assigned == by_code + by_campaign
    assert await counts(migrated_engine, campaign["id"]) == (15 + by_campaign, 0, 15 + by_campaign)
    # Once the end has answered, nothing more is given out, by either way.
    late = await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/claim", headers=world.customer()[1]
    )
    assert late.json()["code"] == "campaign_not_active"
    code_answers = responses[15:23] + responses[39:]
    unclaimed = [c for c, r in zip(codes, code_answers, strict=True) if r.status_code != 201]
    for code in unclaimed[:3]:
        late_code = await world.http.post(
            "/api/v1/coupons/claim", json={"code": code}, headers=world.customer()[1]
        )
        assert late_code.json()["code"] == "campaign_not_active"


async def test_patches_racing_code_generation_on_a_draft(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    draft = await world.campaign(shop, publish=False, total_quantity=100)
    path = f"/api/v1/campaigns/{draft['id']}"
    first = await world.http.post(f"{path}/codes", json={"count": 40}, headers=shop.owner)
    assert first.status_code == 201
    # 25 and 35 are below the 40 already issued whatever the interleaving; the others
    # may or may not be, depending on which batches commit first.
    generate = [
        world.http.post(f"{path}/codes", json={"count": 10}, headers=shop.owner) for _ in range(8)
    ]
    patches = [
        world.http.patch(path, json={"total_quantity": quantity}, headers=shop.owner)
        for quantity in (35, 60, 25, 80, 45, 100)
    ]
    mixed = [call for pair in zip(generate, patches + patches[:2], strict=True) for call in pair]
    responses = await asyncio.gather(*mixed)
    allowed = {200, 201, "sold_out", "quantity_below_issued"}
    assert set(outcomes(responses)) <= allowed, outcomes(responses)
    assert outcomes(responses)["quantity_below_issued"] >= 2
    issued, _, stored = await counts(migrated_engine, draft["id"])
    generated = 40 + 10 * sum(r.status_code == 201 for r in responses)
    assert issued == stored == generated
    final = (await world.http.get(path, headers=shop.owner)).json()
    assert final["issued_count"] == issued
    assert final["total_quantity"] is None or final["issued_count"] <= final["total_quantity"]
    for response in responses:
        if response.status_code == 200:  # every accepted patch held when it was made
            assert response.json()["issued_count"] <= response.json()["total_quantity"]


# S3: PATCH authorizes and calls svc-merchants before it locks the campaign row.


async def row_is_locked(engine: AsyncEngine, campaign_id: str) -> bool:
    from sqlalchemy.exc import DBAPIError

    async with engine.connect() as connection:
        try:
            await connection.execute(
                text("SELECT 1 FROM coupons.campaigns WHERE id = :id FOR NO KEY UPDATE NOWAIT"),
                {"id": campaign_id},
            )
        except DBAPIError:
            return True
        finally:
            await connection.rollback()
    return False


async def test_patch_does_not_hold_the_row_while_asking_svc_merchants(
    world: World,
    migrated_engine: AsyncEngine,
    race_database: Any,
    platform_settings: Any,
    fake_merchants: Any,
) -> None:
    import httpx

    from svc_coupons.app import create_app
    from svc_coupons.config import CouponsSettings

    shop = world.shop()
    draft = await world.campaign(shop, publish=False)
    locked_during_call: list[bool] = []

    async def probing(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/outlets"):
            locked_during_call.append(await row_is_locked(migrated_engine, draft["id"]))
        return fake_merchants.handle(request)

    app = create_app(
        CouponsSettings(),
        platform_settings,
        database=race_database,
        merchants_transport=httpx.MockTransport(probing),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as http:
        response = await http.patch(
            f"/api/v1/campaigns/{draft['id']}",
            json={"outlet_ids": [str(shop.outlet_id)]},
            headers=shop.owner,
        )
    assert response.status_code == 200, response.text
    assert locked_during_call == [False]


async def test_a_refused_patch_does_not_wait_for_the_row(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop, other = world.shop(), world.shop()
    draft = await world.campaign(shop, publish=False)
    path = f"/api/v1/campaigns/{draft['id']}"
    async with migrated_engine.connect() as holder:
        await holder.execute(
            text("SELECT 1 FROM coupons.campaigns WHERE id = :id FOR UPDATE"), {"id": draft["id"]}
        )
        try:
            stranger, staff = await asyncio.wait_for(
                asyncio.gather(
                    world.http.patch(path, json={"title": "Mine now"}, headers=other.owner),
                    world.http.patch(path, json={"title": "Mine now"}, headers=shop.staff),
                ),
                timeout=5,
            )
        finally:
            await holder.rollback()
    assert (stranger.status_code, staff.status_code) == (404, 403)
