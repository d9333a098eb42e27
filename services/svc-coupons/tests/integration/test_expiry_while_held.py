"""A coupon that expires while a gift or a listing holds it reads `expired` everywhere (the
holder's wallet, `?status=history`, the merchant's stats, the gift or listing itself) before
any sweep has run; the sweep then closes the gift or listing as `expired`, and drains
whatever backlog it finds, not one batch of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_coupons.components import SWEEP_BATCH

if TYPE_CHECKING:
    from conftest import Headers, Shop, World

GQL = "/graphql/coupons"
WALLET = "query { wallet(status: history) { items { id status } } }"
TRANSFER = "query ($id: UUID!) { transfer(id: $id) { status coupon { status } } }"
LISTING = "query ($id: UUID!) { listing(id: $id) { status coupon { status } } }"


async def gql(world: World, query: str, headers: Headers, **variables: Any) -> Any:
    response = await world.http.post(
        GQL, json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def expire(connection: AsyncConnection, coupon_id: str) -> None:
    await connection.execute(
        text("UPDATE coupons.coupons SET expires_at = now() - interval '1 minute' WHERE id = :id"),
        {"id": coupon_id},
    )


async def hold(world: World, kind: str, coupon: dict[str, Any], owner: Headers) -> str:
    """A gift or a listing of the coupon; its id."""
    if kind == "gift":
        gift = await world.http.post(f"/api/v1/coupons/{coupon['code']}/transfers", headers=owner)
        assert gift.status_code == 201, gift.text
        transfer_id: str = gift.json()["id"]
        return transfer_id
    listing = await world.http.post(
        "/api/v1/exchange/listings", json={"coupon_code": coupon["code"]}, headers=owner
    )
    assert listing.status_code == 201, listing.text
    listing_id: str = listing.json()["id"]
    return listing_id


async def what_everyone_reads(
    world: World, shop: Shop, kind: str, held_id: str, coupon: dict[str, Any], owner: Headers
) -> dict[str, Any]:
    wallet = (await world.http.get("/api/v1/wallet", headers=owner)).json()["items"]
    history = (await world.http.get("/api/v1/wallet?status=history", headers=owner)).json()
    stats = (
        await world.http.get(f"/api/v1/campaigns/{coupon['campaign_id']}/stats", headers=shop.owner)
    ).json()
    path = (
        f"/api/v1/transfers/{held_id}" if kind == "gift" else f"/api/v1/exchange/listings/{held_id}"
    )
    held = (await world.http.get(path, headers=owner)).json()
    graphql_held = await gql(world, TRANSFER if kind == "gift" else LISTING, owner, id=held_id)
    return {
        "wallet": [(c["id"], c["status"]) for c in wallet],
        "history": [(c["id"], c["status"]) for c in history["items"]],
        "graphql history": [
            (c["id"], c["status"]) for c in (await gql(world, WALLET, owner))["wallet"]["items"]
        ],
        "stats": (stats["active"], stats["reserved"], stats["expired"]),
        "held": (held["status"], held["coupon"]["status"]),
        "graphql held": tuple(
            (graphql_held["transfer" if kind == "gift" else "listing"][k])
            for k in ("status", "coupon")
        ),
    }


@pytest.mark.parametrize("kind", ["gift", "listing"])
async def test_a_held_coupon_that_expires_reads_expired_before_and_after_the_sweep(
    world: World, connection: AsyncConnection, coupons_app: FastAPI, kind: str
) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    held_id = await hold(world, kind, coupon, owner)
    await expire(connection, coupon["id"])
    expired = [(coupon["id"], "expired")]
    expected = {
        "wallet": expired,
        "history": expired,
        "graphql history": expired,
        "stats": (0, 0, 1),
        "held": ("expired", "expired"),
        "graphql held": ("expired", {"status": "expired"}),
    }
    assert await what_everyone_reads(world, shop, kind, held_id, coupon, owner) == expected
    # The sweep closes it for good: the same reading, now stored.
    await coupons_app.state.runtime.sweep()
    assert await what_everyone_reads(world, shop, kind, held_id, coupon, owner) == expected
    table = "transfers" if kind == "gift" else "listings"
    stored = await connection.execute(
        text(
            f"SELECT held.status, coupon.status FROM coupons.{table} held"  # noqa: S608
            " JOIN coupons.coupons coupon ON coupon.id = held.coupon_id WHERE held.id = :id"
        ),
        {"id": held_id},
    )
    assert tuple(stored.one()) == ("expired", "active")  # active past its time: expired
    event = f"{'transfer' if kind == 'gift' else 'listing'}.expired"
    types = await connection.execute(
        text("SELECT type FROM coupons.outbox WHERE entity_id = :id ORDER BY occurred_at"),
        {"id": coupon["id"]},
    )
    assert [row.type for row in types][-1] == event


async def test_a_listing_whose_coupon_expired_is_not_open_and_not_accepted(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    coupon, owner = await world.coupon(shop)
    listing_id = await hold(world, "listing", coupon, owner)
    await expire(connection, coupon["id"])
    offered, taker = await world.coupon(shop)
    listed = await world.http.get("/api/v1/exchange/listings", headers=taker)
    assert listing_id not in {x["id"] for x in listed.json()["items"]}
    refused = await world.http.post(
        f"/api/v1/exchange/listings/{listing_id}/accept",
        json={"offered_coupon_code": offered["code"]},
        headers=taker,
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "listing_closed")


BACKLOG = 150  # more than one batch of the sweep


async def a_backlog(world: World, connection: AsyncConnection) -> str:
    """BACKLOG lapsed gifts and BACKLOG listings of expired coupons; their campaign's id."""
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=2 * BACKLOG)
    owner_id, _ = world.customer()
    # Written straight into the tables: a backlog is what piles up while no sweep runs.
    await connection.execute(
        text(
            "INSERT INTO coupons.coupons (id, campaign_id, merchant_id, code, owner_user_id,"
            " status, issued_at, expires_at, created_at)"
            " SELECT gen_random_uuid(), :campaign, :merchant,"
            " 'SWEEP' || lpad(i::text, 7, '0'), :owner, 'reserved', now() - interval '2 days',"
            " CASE WHEN i <= :n THEN now() + interval '1 day' ELSE now() - interval '1 hour' END,"
            " now() - interval '2 days'"
            " FROM generate_series(1, 2 * :n) AS i"
        ),
        {"campaign": campaign["id"], "merchant": shop.merchant_id, "owner": owner_id, "n": BACKLOG},
    )
    # The first half in gifts past their time, the second in listings past their coupon's.
    await connection.execute(
        text(
            "INSERT INTO coupons.transfers (id, coupon_id, sender_user_id, claim_token_hash,"
            " status, created_at, expires_at)"
            " SELECT gen_random_uuid(), id, owner_user_id, md5(code), 'pending',"
            " now() - interval '2 days', now() - interval '1 hour'"
            " FROM coupons.coupons WHERE campaign_id = :campaign AND expires_at > now()"
        ),
        {"campaign": campaign["id"]},
    )
    await connection.execute(
        text(
            "INSERT INTO coupons.listings (id, coupon_id, owner_user_id, campaign_id,"
            " merchant_id, status, created_at)"
            " SELECT gen_random_uuid(), id, owner_user_id, campaign_id, merchant_id, 'open',"
            " now() - interval '2 days'"
            " FROM coupons.coupons WHERE campaign_id = :campaign AND expires_at <= now()"
        ),
        {"campaign": campaign["id"]},
    )
    campaign_id: str = campaign["id"]
    return campaign_id


async def still_held(connection: AsyncConnection, campaign_id: str) -> tuple[int, ...]:
    """Pending gifts, open listings and reserved coupons of the campaign."""
    left = await connection.execute(
        text(
            "SELECT (SELECT count(*) FROM coupons.transfers t JOIN coupons.coupons c"
            "        ON c.id = t.coupon_id WHERE c.campaign_id = :campaign"
            "        AND t.status = 'pending'),"
            "       (SELECT count(*) FROM coupons.listings WHERE campaign_id = :campaign"
            "        AND status = 'open'),"
            "       (SELECT count(*) FROM coupons.coupons WHERE campaign_id = :campaign"
            "        AND status = 'reserved')"
        ),
        {"campaign": campaign_id},
    )
    return tuple(left.one())


async def test_the_sweep_drains_a_backlog_of_lapsed_gifts_and_expired_listings(
    world: World, connection: AsyncConnection, coupons_app: FastAPI
) -> None:
    campaign_id = await a_backlog(world, connection)
    await coupons_app.state.runtime.sweep()
    assert await still_held(connection, campaign_id) == (0, 0, 0)


async def test_a_backlog_stops_at_the_chores_budget_and_the_outbox_is_swept(
    world: World,
    connection: AsyncConnection,
    coupons_app: FastAPI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A backlog larger than a run can close must not keep the sweep from the outbox (in
    Lambda: until the function times out, nothing delivered)."""
    campaign_id = await a_backlog(world, connection)
    runtime = coupons_app.state.runtime
    budget = runtime.settings.outbox_sweep_budget_seconds
    now = [0.0]

    def clock() -> float:
        # Each batch seems to take the whole sweep budget: every chore's runs out after one.
        seconds = now[0]
        now[0] += budget
        return seconds

    monkeypatch.setattr(coupons_app.state.coupons, "clock", clock)
    outbox_sweeps: list[float] = []
    sweep_outbox = runtime.relay.sweep

    async def recorded(**kwargs: Any) -> Any:
        outbox_sweeps.append(now[0])
        return await sweep_outbox(**kwargs)

    monkeypatch.setattr(runtime.relay, "sweep", recorded)

    await runtime.sweep()

    # One batch of each, the rest left for the next run; then the outbox, all the same.
    assert await still_held(connection, campaign_id) == (
        BACKLOG - SWEEP_BATCH,
        BACKLOG - SWEEP_BATCH,
        2 * BACKLOG - 2 * SWEEP_BATCH,
    )
    assert len(outbox_sweeps) == 1
    await runtime.sweep()
    assert await still_held(connection, campaign_id) == (0, 0, 0)


async def test_a_gift_whose_coupon_expired_is_not_rotated_nor_replayed(
    world: World, connection: AsyncConnection
) -> None:
    """Before any sweep has closed it, a gift whose coupon ran out is as closed as a lapsed
    one: its sender gets no new claim token, and a retry of its creation no live one."""
    coupon, sender = await world.coupon(world.shop())
    key = {"Idempotency-Key": "gift-that-expires"}
    gift = await world.http.post(
        f"/api/v1/coupons/{coupon['code']}/transfers", headers=sender | key
    )
    assert gift.status_code == 201, gift.text
    await expire(connection, coupon["id"])
    rotated = await world.http.post(
        f"/api/v1/transfers/{gift.json()['id']}/claim-token", headers=sender
    )
    assert (rotated.status_code, rotated.json()["code"]) == (409, "transfer_expired")
    retried = await world.http.post(
        f"/api/v1/coupons/{coupon['code']}/transfers", headers=sender | key
    )
    assert (retried.status_code, retried.json()["code"]) == (409, "transfer_expired")
    assert "claim_token" not in retried.json()
    types = await connection.execute(
        text("SELECT type FROM coupons.outbox WHERE entity_id = :id"), {"id": coupon["id"]}
    )
    assert "transfer.token_rotated" not in [row.type for row in types]


async def test_the_rotation_statement_itself_refuses_a_gift_whose_coupon_expired(
    world: World, connection: AsyncConnection
) -> None:
    """The coupon may run out between the service's read and the rotation: the statement
    checks the coupon's expiry as of the same moment, so nothing rotates."""
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from core.clock import utcnow
    from svc_coupons.repositories.transfers import TransferRepository
    from svc_coupons.services.events import coupon_event

    coupon, sender = await world.coupon(world.shop())
    gift = await world.http.post(f"/api/v1/coupons/{coupon['code']}/transfers", headers=sender)
    assert gift.status_code == 201, gift.text
    await expire(connection, coupon["id"])
    session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint")
    rotated = await TransferRepository(session).rotate_token(
        transfer_id=UUID(gift.json()["id"]),
        from_generation=0,
        claim_token_hash="a hash no token has",
        now=utcnow(),
        event=coupon_event(
            "transfer.token_rotated",
            coupon_id=UUID(coupon["id"]),
            actor=None,
            data={"transfer_id": gift.json()["id"], "generation": 1},
        ),
    )
    await session.close()
    assert rotated is False
    generation = await connection.execute(
        text("SELECT claim_token_generation FROM coupons.transfers WHERE id = :id"),
        {"id": gift.json()["id"]},
    )
    assert generation.scalar_one() == 0
