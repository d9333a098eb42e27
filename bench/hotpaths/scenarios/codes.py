"""Bulk codes: one request for many codes against a raw COPY of the same rows."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from loadgen import CpuWatch

from devstack.testing.api import bearer
from hotpaths.base import BenchError, progress
from hotpaths.database import issued_counts
from hotpaths.harness import Bench
from hotpaths.world import World
from svc_coupons.repositories.coupons import COPY_COLUMNS
from svc_coupons.utils.codes import new_codes

CODES_TARGET = 2.0  # platform time <= 2x the raw COPY
CODES_TIMEOUT = 120.0


@dataclass
class CodesResult:
    platform_ms: float
    copy_ms: float
    build_ms: float
    notes: list[str]
    foreign: float

    @property
    def ratio(self) -> float:
        return self.platform_ms / self.copy_ms

    @property
    def met(self) -> bool:
        return self.ratio <= CODES_TARGET


async def raw_copy(db: asyncpg.Connection, world: World, count: int) -> tuple[float, float]:
    """Seconds to build `count` unassigned-code rows in Python, and to COPY them (in a
    transaction, as the platform does) into a campaign of their own."""
    campaign_id = await world.campaign(
        "Raw codes", total_quantity=None, per_customer_limit=1, publish=False
    )
    started = time.perf_counter()
    now = datetime.now(UTC)
    campaign, merchant = uuid.UUID(campaign_id), uuid.UUID(world.merchant_id)
    records = [(campaign, merchant, code, "unassigned", now) for code in new_codes(count)]
    built = time.perf_counter() - started
    started = time.perf_counter()
    async with db.transaction():
        await db.copy_records_to_table(
            "coupons", schema_name="coupons", columns=COPY_COLUMNS, records=records
        )
    return built, time.perf_counter() - started


async def scenario_codes(bench: Bench, world: World, count: int, rounds: int) -> CodesResult:
    """Rounds alternate raw COPY and platform; each round writes into new campaigns."""
    platform_s: list[float] = []
    raw_s: list[float] = []
    build_s: list[float] = []
    notes: list[str] = []
    watch = CpuWatch(bench.platform.process.pid, bench.database)
    watch.start()
    started = time.perf_counter()
    for round_ in range(1, rounds + 1):
        progress(f"bulk codes round {round_}: raw COPY of {count} rows")
        built, copied = await raw_copy(bench.db, world, count)
        build_s.append(built)
        raw_s.append(copied)
        campaign_id = await world.campaign(
            f"Bench codes {round_}", total_quantity=None, per_customer_limit=1, publish=False
        )
        progress(f"bulk codes round {round_}: POST .../codes {{count: {count}}} on platform")
        began = time.perf_counter()
        response = await world.http.post(
            f"/api/v1/campaigns/{campaign_id}/codes",
            json={"count": count},
            headers=bearer(world.owner_token),
            timeout=CODES_TIMEOUT,
        )
        platform_s.append(time.perf_counter() - began)
        if response.status_code != 201 or response.json().get("generated") != count:
            raise BenchError(f"platform: POST codes answered {response.status_code}")
        issued, rows = await issued_counts(bench.db, campaign_id)
        notes.append(
            f"round {round_}: platform {platform_s[-1] * 1000:.0f} ms, raw COPY "
            f"{raw_s[-1] * 1000:.0f} ms; DB units issued {issued}, code rows {rows}"
        )
        if not issued == rows == count:
            bench.wrong.append(f"bulk codes: {notes[-1]}")
    _, foreign = watch.stop(0.0)
    elapsed = time.perf_counter() - started
    return CodesResult(
        statistics.median(platform_s) * 1000,
        statistics.median(raw_s) * 1000,
        statistics.median(build_s) * 1000,
        notes,
        foreign / (elapsed * (os.cpu_count() or 1)),
    )
