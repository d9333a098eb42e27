"""The flash crowd: many distinct customers at a small campaign, exactly its quantity issued."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
from loadgen import HttpRequest, WrkRun

from devstack.testing.api import bearer
from hotpaths.database import issued_counts
from hotpaths.harness import Batch, Bench, Result, Side, ratio_verdict, result_of
from hotpaths.servers import Server
from hotpaths.world import World

FLASH_TARGET = 0.5
FLASH_CONNECTIONS = 200
FLASH_QUANTITY = 50
FLASH_CUSTOMERS = 2000
SETTLE_SECONDS = 2.0
SETTLE_TIMEOUT = 30.0


async def settled_counts(db: asyncpg.Connection, campaign_id: str) -> tuple[int, int]:
    """The campaign's units issued and coupon rows once the claims wrk left in flight have
    ended: when they reach the quantity, or stop moving for SETTLE_SECONDS."""
    counts = await issued_counts(db, campaign_id)
    deadline = time.monotonic() + SETTLE_TIMEOUT
    still_since = time.monotonic()
    while counts[0] < FLASH_QUANTITY and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
        now = await issued_counts(db, campaign_id)
        if now != counts:
            counts, still_since = now, time.monotonic()
        elif time.monotonic() - still_since >= SETTLE_SECONDS:
            break
    return counts


async def scenario_flash(bench: Bench, world: World) -> Result:
    """200 connections of distinct customers at a fresh campaign of 50 each run."""
    accept = frozenset({"201", "409 sold_out", "409 limit_reached"})
    notes: list[str] = []

    def side(server: Server) -> Side:
        async def batch(_: int) -> Batch:
            campaign_id = await world.campaign(
                f"Flash {server.name}",
                total_quantity=FLASH_QUANTITY,
                per_customer_limit=1,
                publish=True,
            )
            if server is bench.platform:
                path = f"/api/v1/campaigns/{campaign_id}/claim"
                requests = [
                    HttpRequest("POST", path, bearer(c.token), b"")
                    for c in world.customers(FLASH_CUSTOMERS)
                ]
            else:
                path = f"/campaigns/{campaign_id}/claim"
                requests = [
                    HttpRequest("POST", path, {"X-User-Id": str(uuid.uuid4())}, b"")
                    for _ in range(FLASH_CUSTOMERS)
                ]

            async def check(run: WrkRun) -> list[str]:
                issued, rows = await settled_counts(bench.db, campaign_id)
                claimed = run.outcomes["201"]
                # A run of fixed time: wrk stops with requests in flight, whose answers (a
                # 201 among them, when the campaign's last units were still being taken)
                # it never counts. The database must hold exactly the quantity.
                if claimed <= issued == rows == FLASH_QUANTITY:
                    return []
                return [f"flash: {claimed} x 201; DB units issued {issued}, rows {rows}"]

            return Batch(requests, accept, check)

        return Side(server, batch)

    runs = await bench.measure(
        "flash crowd",
        {"platform": side(bench.platform), "bare": side(bench.bare)},
        mode="cycle",
        connections=FLASH_CONNECTIONS,
    )
    notes.append(
        f"every run: exactly {FLASH_QUANTITY} units issued (shards summed) = coupon rows, "
        "and no more 201s than that (wrk does not count answers in flight when it stops); "
        "the rest 409 sold_out or limit_reached"
    )
    return result_of(
        9,
        f"Flash crowd: {FLASH_CONNECTIONS} connections of distinct customers at a campaign "
        f"of {FLASH_QUANTITY}, a fresh one each run",
        "answers/s",
        runs,
        target=f">= {FLASH_TARGET:.2f}x bare, exact",
        verdict=ratio_verdict(FLASH_TARGET),
        notes=notes,
    )
