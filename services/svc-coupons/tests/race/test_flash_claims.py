"""A flash sale on one campaign: claims take their units from the campaign's counter shards,
each in one statement that commits by itself. Exact under races, and no lock outlives the
statement: nothing is held while the request goes on (a round trip, in production)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.database.driver import driver_connection
from core.events.outbox import OutboxWriter
from svc_coupons.components import CouponsComponents
from svc_coupons.repositories.campaign_units import SHARDS
from svc_coupons.repositories.coupons import ISSUE, ISSUE_WAITING
from svc_coupons.services.issuing import IssuingService

if TYPE_CHECKING:
    from conftest import World


def outcomes(responses: list[Any]) -> Counter[Any]:
    return Counter(r.status_code if r.status_code < 400 else r.json()["code"] for r in responses)


async def shards_of(engine: AsyncEngine, campaign_id: str) -> list[tuple[int | None, int]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT capacity, taken FROM coupons.campaign_units"
                " WHERE campaign_id = :id ORDER BY shard"
            ),
            {"id": campaign_id},
        )
        return [(row.capacity, row.taken) for row in rows]


async def coupon_rows(engine: AsyncEngine, campaign_id: str) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(
            text("SELECT count(*) FROM coupons.coupons WHERE campaign_id = :id"),
            {"id": campaign_id},
        )
    return int(count or 0)


async def test_a_flash_sale_issues_exactly_its_quantity_from_its_shards(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    # Fewer units than shards: most shards hold one unit or none, so claims keep finding
    # theirs locked or sold out, and fall back to waiting for the ones left.
    campaign = await world.campaign(shop, total_quantity=40, per_customer_limit=1)
    customers = [world.customer()[1] for _ in range(90)]
    path = f"/api/v1/campaigns/{campaign['id']}/claim"
    # Ten customers press twice at once: one coupon each at most.
    presses = customers + customers[:10]
    responses = await asyncio.gather(*(world.http.post(path, headers=c) for c in presses))

    counted = outcomes(responses)
    assert counted[201] == 40
    assert set(counted) <= {201, "sold_out", "limit_reached"}
    shards = await shards_of(migrated_engine, campaign["id"])
    assert len(shards) == SHARDS
    assert sum(capacity or 0 for capacity, _ in shards) == 40
    assert all(capacity is not None and taken <= capacity for capacity, taken in shards)
    assert (
        sum(taken for _, taken in shards)
        == 40
        == await coupon_rows(migrated_engine, campaign["id"])
    )
    owners = Counter(r.json()["owner_user_id"] for r in responses if r.status_code == 201)
    assert max(owners.values()) == 1
    answer = (await world.http.get(f"/api/v1/campaigns/{campaign['id']}")).json()
    assert answer["issued_count"] == 40
    stats = await world.http.get(f"/api/v1/campaigns/{campaign['id']}/stats", headers=shop.owner)
    assert stats.json()["issued"] == 40


async def test_claims_codes_and_shares_at_once_never_oversell(
    world: World, migrated_engine: AsyncEngine
) -> None:
    shop = world.shop()
    partner = world.shop()
    campaign = await world.campaign(shop, total_quantity=60)
    base = f"/api/v1/campaigns/{campaign['id']}"
    claims = [world.http.post(f"{base}/claim", headers=world.customer()[1]) for _ in range(40)]
    codes = [
        world.http.post(f"{base}/codes", json={"count": 5}, headers=shop.owner) for _ in range(4)
    ]
    shares = [
        world.http.post(
            f"{base}/allocations",
            json={"partner_merchant_id": str(partner.merchant_id), "quantity": 5},
            headers=shop.owner,
        )
        for _ in range(4)
    ]
    responses = await asyncio.gather(*claims, *codes, *shares)
    claimed = sum(r.status_code == 201 for r in responses[:40])
    bulk = 5 * sum(r.status_code == 201 for r in responses[40:])
    assert set(outcomes(responses)) <= {201, "sold_out"}
    assert claimed + bulk == 60
    shards = await shards_of(migrated_engine, campaign["id"])
    assert sum(taken for _, taken in shards) == 60
    async with migrated_engine.connect() as connection:
        issued = await connection.scalar(
            text(
                "SELECT count(*) FROM coupons.coupons WHERE campaign_id = :id"
                " AND owner_user_id IS NOT NULL"
            ),
            {"id": campaign["id"]},
        )
    assert issued == claimed


class PausedAfterClaim:
    """The next claim stops after its service returned (its statement done), before the
    request's unit of work ends, until let go. With `wrote_before`, its unit of work has
    begun a transaction before the claim, as a request that wrote something first would."""

    def __init__(self, components: CouponsComponents, *, wrote_before: bool) -> None:
        self._issuing = components.issuing
        self._wrote_before = wrote_before
        self.paused = asyncio.Event()
        self.go_on = asyncio.Event()

    def issuing(self, session: AsyncSession, *, authorization: str | None) -> IssuingService:
        service = self._issuing(session, authorization=authorization)
        claim = service.claim

        async def paused_claim(**arguments: Any) -> Any:
            if self._wrote_before:
                await driver_connection(session)  # BEGIN, as a first write would
            details = await claim(**arguments)
            self.paused.set()
            await self.go_on.wait()
            return details

        service.claim = paused_claim  # type: ignore[method-assign]
        return service


async def rows_locked(engine: AsyncEngine, campaign_id: str) -> bool:
    """Whether any of the rows a claim contends for (the campaign's shards) is locked, seen
    from another connection."""
    async with engine.connect() as connection:
        await connection.execute(text("SET lock_timeout = '100ms'"))
        try:
            await connection.execute(
                text(
                    "SELECT FROM coupons.campaign_units WHERE campaign_id = :id FOR UPDATE NOWAIT"
                ),
                {"id": campaign_id},
            )
        except DBAPIError:
            return True
        finally:
            await connection.rollback()
    return False


async def open_transactions(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        count = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        )
    return int(count or 0)


@pytest.mark.parametrize("wrote_before", [False, True])
async def test_no_transaction_is_open_while_a_claim_request_goes_on(
    world: World,
    coupons_app: FastAPI,
    migrated_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    wrote_before: bool,
) -> None:
    """The claim's statement committed by itself: while its request goes on (answers the
    client, in production a round trip), no transaction of it is open and no shard locked.
    The same probe on a request that had begun a transaction first (the claim's statement
    then runs inside it, as the unit of work documents) sees both: it can fail."""
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=5)
    paused = PausedAfterClaim(coupons_app.state.coupons, wrote_before=wrote_before)
    monkeypatch.setattr(coupons_app.state.coupons, "issuing", paused.issuing)
    headers = {**world.customer()[1], "Idempotency-Key": "held-claim"}
    request = asyncio.create_task(
        world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=headers)
    )
    await asyncio.wait_for(paused.paused.wait(), timeout=10)
    try:
        locked = await rows_locked(migrated_engine, campaign["id"])
        in_transaction = await open_transactions(migrated_engine)
    finally:
        paused.go_on.set()
        response = await request
    assert response.status_code == 201
    assert locked is wrote_before
    assert (in_transaction >= 1) is wrote_before
    replay = await world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=headers)
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.content == response.content
    assert await coupon_rows(migrated_engine, campaign["id"]) == 1


async def test_a_claim_statement_that_fails_leaves_nothing_and_its_key_free(
    world: World, migrated_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The statement that would have stored the key's answer fails (a code the column
    refuses): it committed nothing, not the unit, the customer's count nor the answer, and
    the key is released, so the same request with the same key then succeeds."""
    from svc_coupons.services import issuing

    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=3, per_customer_limit=1)
    path = f"/api/v1/campaigns/{campaign['id']}/claim"
    headers = {**world.customer()[1], "Idempotency-Key": "fails-once"}
    drawn = issuing.new_code
    monkeypatch.setattr(issuing, "new_code", lambda: "X" * 40)
    failed = await world.http.post(path, headers=headers)
    assert failed.status_code >= 400
    assert sum(taken for _, taken in await shards_of(migrated_engine, campaign["id"])) == 0
    async with migrated_engine.connect() as connection:
        kept = await connection.scalar(
            text("SELECT count(*) FROM coupons.idempotency_keys WHERE key = 'fails-once'")
        )
        counted = await connection.scalar(
            text("SELECT count(*) FROM coupons.customer_claims WHERE campaign_id = :id"),
            {"id": campaign["id"]},
        )
    assert kept == 0
    assert counted == 0
    monkeypatch.setattr(issuing, "new_code", drawn)
    retried = await world.http.post(path, headers=headers)
    assert retried.status_code == 201
    assert sum(taken for _, taken in await shards_of(migrated_engine, campaign["id"])) == 1


async def test_a_keyed_graphql_claim_commits_with_its_key(
    world: World,
    coupons_app: FastAPI,
    migrated_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A GraphQL claim's answer is not built before its statement: its key is completed after
    the work, so the statement runs inside the request's transaction (held open while the
    request goes on) and commits with the key; a replay answers the same body."""
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=5)
    paused = PausedAfterClaim(coupons_app.state.coupons, wrote_before=False)
    monkeypatch.setattr(coupons_app.state.coupons, "issuing", paused.issuing)
    headers = {**world.customer()[1], "Idempotency-Key": "graphql-claim"}
    body = {
        "query": "mutation ($id: UUID!) { claimCoupon(campaignId: $id) { id code } }",
        "variables": {"id": campaign["id"]},
    }
    request = asyncio.create_task(world.http.post("/graphql/coupons", json=body, headers=headers))
    await asyncio.wait_for(paused.paused.wait(), timeout=10)
    try:
        locked = await rows_locked(migrated_engine, campaign["id"])
    finally:
        paused.go_on.set()
        response = await request
    assert locked
    assert "errors" not in response.json()
    replay = await world.http.post("/graphql/coupons", json=body, headers=headers)
    assert replay.headers.get("idempotent-replayed") == "true"
    assert replay.content == response.content
    assert await coupon_rows(migrated_engine, campaign["id"]) == 1


async def waiting_for_a_lock(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        waiting = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return bool(waiting)


async def claim_waiting_for_a_shard(
    world: World, engine: AsyncEngine, campaign_id: str
) -> asyncio.Task[Any]:
    """A customer's claim on the campaign, sent and waiting for a shard's lock."""
    claim = asyncio.create_task(
        world.http.post(f"/api/v1/campaigns/{campaign_id}/claim", headers=world.customer()[1])
    )
    for _ in range(200):
        if await waiting_for_a_lock(engine):
            return claim
        await asyncio.sleep(0.05)
    raise AssertionError("the claim never waited for a shard")


@pytest.mark.parametrize("attempt", range(4))
async def test_a_claim_that_waits_for_a_shard_emptied_meanwhile_takes_another(
    world: World, migrated_engine: AsyncEngine, attempt: int
) -> None:
    """Both shards with stock are held by another transaction: the claim waits for one of
    them, chosen at random. The holder then takes the first one's unit: a claim that waited
    for it finds it empty and waits in shard order for the other, never sold out."""
    del attempt  # each run, the claim's random shard is one or the other
    campaign = await world.campaign(world.shop(), total_quantity=2)
    async with migrated_engine.connect() as holder:
        await holder.begin()
        stocked = (
            (
                await holder.execute(
                    text(
                        "SELECT shard FROM coupons.campaign_units WHERE campaign_id = :id"
                        " AND taken < capacity ORDER BY shard FOR UPDATE"
                    ),
                    {"id": campaign["id"]},
                )
            )
            .scalars()
            .all()
        )
        assert len(stocked) == 2
        claim = await claim_waiting_for_a_shard(world, migrated_engine, campaign["id"])
        await holder.execute(
            text(
                "UPDATE coupons.campaign_units SET taken = taken + 1"
                " WHERE campaign_id = :id AND shard = :shard"
            ),
            {"id": campaign["id"], "shard": stocked[0]},
        )
        await holder.commit()
    response = await asyncio.wait_for(claim, timeout=30)
    assert response.status_code == 201, response.text
    shards = await shards_of(migrated_engine, campaign["id"])
    assert sum(taken for _, taken in shards) == 2
    assert await coupon_rows(migrated_engine, campaign["id"]) == 1


@pytest.mark.parametrize("attempt", range(3))
async def test_a_claim_that_waited_for_a_shard_takes_its_unit_in_that_statement(
    world: World,
    migrated_engine: AsyncEngine,
    monkeypatch: pytest.MonkeyPatch,
    attempt: int,
) -> None:
    """Every shard is rewritten by another transaction while a claim runs: the claim finds
    them all held, waits for one at random, and once the writer commits takes its unit
    there, in its waiting statement. The row the statement's snapshot saw was replaced
    meanwhile, so PostgreSQL rechecks the unit's update against the newest version; the
    recheck must keep the shard the statement locked (a random choice made by a subquery
    was made again there, and the statement took nothing, which the in-order statement
    after it then made up for)."""
    del attempt  # each run, the claim's random shard is another
    statements: list[str] = []
    fetchrow = OutboxWriter.fetchrow

    async def recorded(self: OutboxWriter, statement: str, *args: Any, **kwargs: Any) -> Any:
        statements.append(statement)
        return await fetchrow(self, statement, *args, **kwargs)

    monkeypatch.setattr(OutboxWriter, "fetchrow", recorded)
    campaign = await world.campaign(world.shop(), total_quantity=1000)
    async with migrated_engine.connect() as writer:
        await writer.begin()
        await writer.execute(
            text("UPDATE coupons.campaign_units SET taken = taken WHERE campaign_id = :id"),
            {"id": campaign["id"]},
        )
        claim = await claim_waiting_for_a_shard(world, migrated_engine, campaign["id"])
        await writer.commit()
    response = await asyncio.wait_for(claim, timeout=30)
    assert response.status_code == 201, response.text
    assert statements == [ISSUE, ISSUE_WAITING]
    assert await coupon_rows(migrated_engine, campaign["id"]) == 1
