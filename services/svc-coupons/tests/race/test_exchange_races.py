"""The exchange under real concurrency: many requests at once, each committing for real on
its own connection. Exactly one of the competitors wins; the others change nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    from conftest import World


def outcomes(responses: list[Any]) -> Counter[Any]:
    return Counter(r.status_code if r.status_code < 400 else r.json()["code"] for r in responses)


async def coupon_state(engine: AsyncEngine, coupon_id: str) -> tuple[str, str, str]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text("SELECT owner_user_id, code, status FROM coupons.coupons WHERE id = :id"),
                {"id": coupon_id},
            )
        ).one()
    return str(row.owner_user_id), row.code, row.status


async def test_10_customers_accepting_one_listing_make_one_swap(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    listed, lister = await world.coupon(shop)
    listing = (
        await world.http.post(
            "/api/v1/exchange/listings", json={"coupon_code": listed["code"]}, headers=lister
        )
    ).json()
    campaign = await world.campaign(shop, title="Offered")
    takers = [world.customer()[1] for _ in range(10)]
    offers = [await world.claim(campaign, taker) for taker in takers]
    responses = await asyncio.gather(
        *(
            world.http.post(
                f"/api/v1/exchange/listings/{listing['id']}/accept",
                json={"offered_coupon_code": offer["code"]},
                headers=taker,
            )
            for offer, taker in zip(offers, takers, strict=True)
        )
    )
    assert outcomes(responses) == {200: 1, "listing_closed": 9}
    (winner,) = [offers[i] for i, r in enumerate(responses) if r.status_code == 200]
    owner, _, status = await coupon_state(migrated_engine, listed["id"])
    assert (owner, status) == (winner["owner_user_id"], "active")
    for offer in offers:
        state = await coupon_state(migrated_engine, offer["id"])
        if offer is winner:
            assert (state[0], state[2]) == (listed["owner_user_id"], "active")
            assert state[1] != offer["code"]
        else:
            assert state == (offer["owner_user_id"], offer["code"], "active")
    async with migrated_engine.connect() as connection:
        swaps = await connection.execute(
            text(
                "SELECT count(*) FROM coupons.outbox WHERE type = 'listing.accepted'"
                " AND entity_id = :id"
            ),
            {"id": listed["id"]},
        )
        assert swaps.scalar_one() == 1


async def test_accept_against_cancel_of_one_gift(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    rounds = []
    for _ in range(8):
        coupon, sender = await world.coupon(shop)
        gift = (
            await world.http.post(f"/api/v1/coupons/{coupon['code']}/transfers", headers=sender)
        ).json()
        rounds.append((coupon, sender, gift, world.customer()))
    results = await asyncio.gather(
        *(
            asyncio.gather(
                world.http.post(
                    f"/api/v1/transfers/{gift['id']}/accept",
                    json={"claim_token": gift["claim_token"]},
                    headers=recipient[1],
                ),
                world.http.post(f"/api/v1/transfers/{gift['id']}/cancel", headers=sender),
            )
            for _, sender, gift, recipient in rounds
        )
    )
    for (coupon, _, _, (recipient_id, _)), (accepted, cancelled) in zip(
        rounds, results, strict=True
    ):
        codes = sorted([accepted.status_code, cancelled.status_code])
        assert codes == [200, 409], (accepted.text, cancelled.text)
        assert (accepted if accepted.status_code == 409 else cancelled).json()["code"] == (
            "transfer_closed"
        )
        owner, code, status = await coupon_state(migrated_engine, coupon["id"])
        assert status == "active"
        if accepted.status_code == 200:
            assert (owner, code) == (str(recipient_id), accepted.json()["code"])
        else:
            assert (owner, code) == (coupon["owner_user_id"], coupon["code"])


async def test_accept_against_a_rotation_of_the_claim_token(
    world: World, migrated_engine: AsyncEngine
) -> None:
    """An accept holding the token a rotation replaces: either it takes the coupon and the
    rotation finds the gift closed, or the rotation wins and the accept is refused
    `invalid_claim_token`, never `transfer_closed` for a gift still pending."""
    shop = world.shop()
    rounds = []
    for _ in range(8):
        coupon, sender = await world.coupon(shop)
        gift = (
            await world.http.post(f"/api/v1/coupons/{coupon['code']}/transfers", headers=sender)
        ).json()
        rounds.append((coupon, sender, gift, world.customer()[1]))
    results = await asyncio.gather(
        *(
            asyncio.gather(
                world.http.post(
                    f"/api/v1/transfers/{gift['id']}/accept",
                    json={"claim_token": gift["claim_token"]},
                    headers=recipient,
                ),
                world.http.post(f"/api/v1/transfers/{gift['id']}/claim-token", headers=sender),
            )
            for _, sender, gift, recipient in rounds
        )
    )
    for (coupon, _, _, _), (accepted, rotated) in zip(rounds, results, strict=True):
        _, _, status = await coupon_state(migrated_engine, coupon["id"])
        if accepted.status_code == 200:
            assert rotated.json()["code"] == "transfer_closed", rotated.text
            assert status == "active"
        else:
            assert rotated.status_code == 200, rotated.text
            assert accepted.json()["code"] == "invalid_claim_token", accepted.text
            assert status == "reserved"


async def test_accept_of_a_listing_against_redeem_of_the_offered_coupon(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    rounds = []
    for _ in range(8):
        listed, lister = await world.coupon(shop)
        listing = (
            await world.http.post(
                "/api/v1/exchange/listings", json={"coupon_code": listed["code"]}, headers=lister
            )
        ).json()
        offered, taker = await world.coupon(shop)
        rounds.append((listed, listing, offered, taker))
    results = await asyncio.gather(
        *(
            asyncio.gather(
                world.http.post(
                    f"/api/v1/exchange/listings/{listing['id']}/accept",
                    json={"offered_coupon_code": offered["code"]},
                    headers=taker,
                ),
                world.redeem(shop, offered["code"], order_amount=1000),
            )
            for _, listing, offered, taker in rounds
        )
    )
    swaps = 0
    for (listed, _, offered, _), (swap, redeem) in zip(rounds, results, strict=True):
        offered_state = await coupon_state(migrated_engine, offered["id"])
        listed_state = await coupon_state(migrated_engine, listed["id"])
        if swap.status_code == 200:
            swaps += 1
            # The redeem named the old code: it no longer exists.
            assert (redeem.status_code, redeem.json()["code"]) == (404, "coupon_not_found")
            assert offered_state[0] == listed["owner_user_id"]
            assert offered_state[2] == "active"
            assert listed_state[0] == offered["owner_user_id"]
        else:
            assert redeem.status_code == 200, redeem.text
            assert swap.json()["code"] == "already_redeemed", swap.text
            assert offered_state == (offered["owner_user_id"], offered["code"], "redeemed")
            assert listed_state == (listed["owner_user_id"], listed["code"], "reserved")
    async with migrated_engine.connect() as connection:
        redemptions = await connection.execute(
            text("SELECT count(*) FROM coupons.redemptions WHERE coupon_id = ANY(:ids)"),
            {"ids": [offered["id"] for _, _, offered, _ in rounds]},
        )
        assert redemptions.scalar_one() == len(rounds) - swaps


async def test_ten_gifts_of_one_coupon_make_one_transfer(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    coupon, sender = await world.coupon(shop)
    responses = await asyncio.gather(
        *(
            world.http.post(f"/api/v1/coupons/{coupon['code']}/transfers", headers=sender)
            for _ in range(10)
        )
    )
    assert outcomes(responses) == {201: 1, "coupon_locked": 9}
    async with migrated_engine.connect() as connection:
        transfers = await connection.execute(
            text("SELECT count(*) FROM coupons.transfers WHERE coupon_id = :id"),
            {"id": coupon["id"]},
        )
        assert transfers.scalar_one() == 1


async def test_partner_issues_and_claims_share_the_total_exactly(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop, partner = world.shop(), world.shop()
    campaign = await world.campaign(shop, total_quantity=30)
    allocation = (
        await world.http.post(
            f"/api/v1/campaigns/{campaign['id']}/allocations",
            json={"partner_merchant_id": str(partner.merchant_id), "quantity": 10},
            headers=shop.owner,
        )
    ).json()
    claims = [
        world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=world.customer()[1])
        for _ in range(40)
    ]
    issues = [
        world.http.post(
            f"/api/v1/allocations/{allocation['id']}/issue",
            json={"user_id": str(uuid4())},
            headers=partner.staff,
        )
        for _ in range(15)
    ]
    responses = await asyncio.gather(*claims, *issues)
    assert outcomes(responses[:40]) == {201: 20, "sold_out": 20}
    assert outcomes(responses[40:]) == {201: 10, "allocation_exhausted": 5}
    async with migrated_engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT (SELECT sum(taken) FROM coupons.campaign_units"
                    " WHERE campaign_id = :id),"
                    " (SELECT count(*) FROM coupons.coupons"
                    " WHERE campaign_id = :id), (SELECT issued FROM coupons.allocations"
                    " WHERE id = :allocation) FROM coupons.campaigns WHERE id = :id"
                ),
                {"id": campaign["id"], "allocation": allocation["id"]},
            )
        ).one()
    assert tuple(row) == (30, 30, 10)


async def test_allocations_and_claims_never_oversell(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop, partner = world.shop(), world.shop()
    campaign = await world.campaign(shop, total_quantity=20)
    allocations = [
        world.http.post(
            f"/api/v1/campaigns/{campaign['id']}/allocations",
            json={"partner_merchant_id": str(partner.merchant_id), "quantity": 4},
            headers=shop.owner,
        )
        for _ in range(4)
    ]
    claims = [
        world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=world.customer()[1])
        for _ in range(20)
    ]
    responses = await asyncio.gather(*allocations, *claims)
    allocated = 4 * sum(1 for r in responses[:4] if r.status_code == 201)
    claimed = sum(1 for r in responses[4:] if r.status_code == 201)
    assert allocated + claimed == 20
    assert set(outcomes(responses)) <= {201, "sold_out"}
    async with migrated_engine.connect() as connection:
        issued = await connection.execute(
            text("SELECT sum(taken) FROM coupons.campaign_units WHERE campaign_id = :id"),
            {"id": campaign["id"]},
        )
        assert issued.scalar_one() == 20


async def test_gifts_and_claims_racing_into_one_wallet_stop_at_the_limit(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=3, total_quantity=100)
    collector_id, collector = world.customer()
    gifts = []
    for _ in range(8):
        _, mule = world.customer()
        coupon = await world.claim(campaign, mule)
        gift = await world.http.post(f"/api/v1/coupons/{coupon['code']}/transfers", headers=mule)
        gifts.append(gift.json())
    accepts = [
        world.http.post(
            f"/api/v1/transfers/{gift['id']}/accept",
            json={"claim_token": gift["claim_token"]},
            headers=collector,
        )
        for gift in gifts
    ]
    claims = [
        world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=collector)
        for _ in range(4)
    ]
    responses = await asyncio.gather(*accepts, *claims)
    results = outcomes(responses)
    assert results[200] + results[201] == 3, results
    assert results["limit_reached"] == 9, results
    async with migrated_engine.connect() as connection:
        held = await connection.execute(
            text(
                "SELECT count(*) FROM coupons.coupons"
                " WHERE campaign_id = :campaign AND owner_user_id = :user"
            ),
            {"campaign": campaign["id"], "user": collector_id},
        )
        assert held.scalar_one() == 3
        counted = await connection.execute(
            text(
                "SELECT claimed FROM coupons.customer_claims"
                " WHERE campaign_id = :campaign AND user_id = :user"
            ),
            {"campaign": campaign["id"], "user": collector_id},
        )
        assert counted.scalar_one() == 3
        pending = await connection.execute(
            text(
                "SELECT count(*) FROM coupons.transfers WHERE id = ANY(:ids) AND status = 'pending'"
            ),
            {"ids": [gift["id"] for gift in gifts]},
        )
        accepted_gifts = sum(1 for r in responses[: len(gifts)] if r.status_code == 200)
        assert pending.scalar_one() == len(gifts) - accepted_gifts


async def _lock_waiters(engine: AsyncEngine, holders: list[int]) -> int:
    async with engine.connect() as connection:
        waiting = await connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database() AND NOT pid = ANY(:holders)"
            ),
            {"holders": holders},
        )
        return int(waiting.scalar_one())


async def test_crossing_swaps_between_two_customers_both_complete(
    world: World, migrated_engine: AsyncEngine
) -> None:
    """A lists a P coupon and B a Q coupon; B accepts A's listing offering Q while A accepts
    B's offering P. Each swap counts one coupon received into each wallet: B's counter of P
    and A's counter of Q, the same two rows. Outside transactions hold both rows until both
    accepts wait, then let them go one after the other, so that each accept gets the first
    row it asks for before the second: in any order but one fixed one, that is a cycle."""
    shop = world.shop()
    p_campaign = await world.campaign(shop, title="Offer P", per_customer_limit=2)
    q_campaign = await world.campaign(shop, title="Offer Q", per_customer_limit=2)
    a_id, a = world.customer()
    b_id, b = world.customer()
    a_listed, a_offered = await world.claim(p_campaign, a), await world.claim(p_campaign, a)
    b_listed, b_offered = await world.claim(q_campaign, b), await world.claim(q_campaign, b)
    a_listing = await world.http.post(
        "/api/v1/exchange/listings", json={"coupon_code": a_listed["code"]}, headers=a
    )
    b_listing = await world.http.post(
        "/api/v1/exchange/listings", json={"coupon_code": b_listed["code"]}, headers=b
    )
    assert a_listing.status_code == b_listing.status_code == 201, a_listing.text
    b_gets_p = {"campaign_id": p_campaign["id"], "user_id": str(b_id)}
    a_gets_q = {"campaign_id": q_campaign["id"], "user_id": str(a_id)}
    async with migrated_engine.begin() as connection:
        for counter in (b_gets_p, a_gets_q):
            await connection.execute(
                text(
                    "INSERT INTO coupons.customer_claims (campaign_id, user_id, claimed)"
                    " VALUES (:campaign_id, :user_id, 0)"
                ),
                counter,
            )
    lock_counter = text(
        "SELECT claimed FROM coupons.customer_claims"
        " WHERE campaign_id = :campaign_id AND user_id = :user_id FOR UPDATE"
    )
    async with migrated_engine.connect() as first, migrated_engine.connect() as second:
        holders = []
        for holder, counter in ((first, b_gets_p), (second, a_gets_q)):
            await holder.execute(lock_counter, counter)
            holders.append(
                int((await holder.execute(text("SELECT pg_backend_pid()"))).scalar_one())
            )
        accepts = [
            asyncio.ensure_future(
                world.http.post(
                    f"/api/v1/exchange/listings/{a_listing.json()['id']}/accept",
                    json={"offered_coupon_code": b_offered["code"]},
                    headers=b,
                )
            ),
            asyncio.ensure_future(
                world.http.post(
                    f"/api/v1/exchange/listings/{b_listing.json()['id']}/accept",
                    json={"offered_coupon_code": a_offered["code"]},
                    headers=a,
                )
            ),
        ]
        for _ in range(100):
            if await _lock_waiters(migrated_engine, holders) >= 2:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the accepts never waited on the counters")
        await first.rollback()
        await asyncio.sleep(0.5)  # the accept that got B's counter now asks for A's
        await second.rollback()
        responses = await asyncio.gather(*accepts)
    assert outcomes(responses) == {200: 2}, [r.text for r in responses]
    assert (await coupon_state(migrated_engine, a_listed["id"]))[0] == str(b_id)
    assert (await coupon_state(migrated_engine, b_listed["id"]))[0] == str(a_id)
    async with migrated_engine.connect() as connection:
        counted = await connection.execute(
            text(
                "SELECT claimed FROM coupons.customer_claims WHERE (campaign_id, user_id)"
                " IN ((:p, :b), (:q, :a)) ORDER BY claimed"
            ),
            {"p": p_campaign["id"], "b": b_id, "q": q_campaign["id"], "a": a_id},
        )
        # Both swaps move a P coupon to B and a Q coupon to A: each counter counted twice.
        assert counted.scalars().all() == [2, 2]
