"""One flash-sale measurement per design, client count and round-trip time.

For each: the bystanders alone; the sale (every client claiming on one campaign) with the
bystanders beside it; the sale again with an Idempotency-Key on every claim; the same load
spread over 64 campaigns (the no-contention ceiling), the bystanders beside it too; and
claims on a sold-out campaign.
Every run takes fresh campaigns and checks its counts exactly (exactness.check_exact):
a count that disagrees ends the run with NotExact.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from svc_coupons.repositories import coupons as coupon_statements

from .designs import Design
from .exactness import NotExact, check_exact
from .pgbench import RTT_VARIABLE, Load, Pgbench, PgbenchRun, Script, bind
from .world import LOOKUP_CODE, LOOKUP_COUPONS, Block, World

SPREAD_CAMPAIGNS = 64
BYSTANDER_CAMPAIGNS = 16
SOLD_OUT_QUANTITY = 1000
BYSTANDER_START_DELAY = 1.0  # s: the sale's clients connected and claiming first


@dataclass(frozen=True)
class Settings:
    clients: Sequence[int] = (64, 256)
    rtts_ms: Sequence[float] = (0.0, 0.5, 1.0, 2.0)
    seconds: int = 5
    bystander_clients: int = 8
    bystander_rate: float = 200.0  # transactions/s, lookups and claims together
    idempotency: bool = True


@dataclass(frozen=True)
class Latency:
    rate: float
    p50: float
    p99: float

    @classmethod
    def of(cls, run: PgbenchRun, script: str) -> Latency:
        return cls(run.rate(script), run.percentile(script, 0.5), run.percentile(script, 0.99))


@dataclass
class Row:
    design: str
    clients: int
    rtt_ms: float
    hot: Latency
    hot_issued: int
    spread: Latency
    with_key: Latency | None
    sold_out: Latency | None  # None: the design answers sold-out without the database
    bystanders_alone: dict[str, float]  # p99 ms by script (lookup, claim)
    bystanders_sale: dict[str, float]
    bystanders_spread: dict[str, float]  # beside the same load spread over 64 campaigns
    client_cpu_share: float  # pgbench's busiest share of a core in the row's runs
    lock_timeouts: int = 0  # claims of the row's runs that waited past lock_timeout (503s)

    @property
    def hot_vs_spread(self) -> float:
        return self.hot.rate / self.spread.rate if self.spread.rate else float("nan")

    @property
    def sold_out_vs_hot(self) -> float | None:
        if self.sold_out is None:
            return None
        return self.sold_out.rate / self.hot.rate if self.hot.rate else float("nan")

    @property
    def bystander_slowdown(self) -> float:
        """The bystanders' p99 during the sale against their p99 alone (the worse of the
        two scripts): what the sale costs them, its load and its hot campaign together."""
        return max(
            self.bystanders_sale[name] / self.bystanders_alone[name]
            for name in self.bystanders_alone
        )

    @property
    def hot_campaign_slowdown(self) -> float:
        """The bystanders' p99 during the sale against their p99 beside the same load spread
        over 64 campaigns: what the sale's being on one campaign costs them, apart from
        what its load costs on this machine's cores."""
        return max(
            self.bystanders_sale[name] / self.bystanders_spread[name]
            for name in self.bystanders_spread
        )


def progress(message: str) -> None:
    print(f"  {time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def lookup_script() -> Script:
    """The platform's lookup by code (the statement GET /coupons/{code} runs)."""
    code = LOOKUP_CODE.format(number=":n")
    statement = bind(coupon_statements.SELECT_WITH_CAMPAIGN, {1: code})
    return Script().set("n", f"random(1, {LOOKUP_COUPONS})").statement(statement)


@dataclass
class Runner:
    db: asyncpg.Connection
    pgbench: Pgbench
    settings: Settings
    checks: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.world = World(self.db)

    async def load(self, *loads: tuple[Load, float]) -> list[PgbenchRun]:
        """pgbench processes started together (each after its delay), all waited for."""
        started = []
        try:
            for load, delay in loads:
                if delay:
                    await asyncio.sleep(delay)
                started.append(self.pgbench.start(load))
            return [await asyncio.to_thread(s.finish) for s in started]
        finally:
            for s in started:
                s.stop()

    def variables(self, rtt_ms: float, block: Block) -> dict[str, int | str]:
        return {RTT_VARIABLE: round(rtt_ms * 1000), **block.variables}

    async def exact(self, label: str, successes: int, block: Block) -> int:
        line = check_exact(label, successes, await self.world.counts(block))
        self.checks.append(line)
        progress(line)
        return successes

    def bystanders(self, design: Design, rtt_ms: float, block: Block, seconds: int) -> Load:
        return Load(
            {"lookup": lookup_script(), "claim": design.claim(False)},
            self.settings.bystander_clients,
            seconds,
            self.variables(rtt_ms, block),
            rate=self.settings.bystander_rate,
        )

    async def claims(
        self, design: Design, clients: int, rtt_ms: float, campaigns: int, *, key: bool = False
    ) -> tuple[PgbenchRun, Block]:
        block = await self.world.campaigns(design, campaigns)
        load = Load(
            {"claim": design.claim(key)},
            clients,
            self.settings.seconds,
            self.variables(rtt_ms, block),
        )
        (run,) = await self.load((load, 0.0))
        return run, block

    async def claims_beside_bystanders(
        self, name: str, design: Design, clients: int, rtt_ms: float, campaigns: int
    ) -> tuple[PgbenchRun, PgbenchRun]:
        """Every client claiming on `campaigns` fresh campaigns, the bystanders started
        BYSTANDER_START_DELAY into it on campaigns of their own; both blocks checked exact."""
        seconds = self.settings.seconds
        block = await self.world.campaigns(design, campaigns)
        busy = await self.world.campaigns(design, BYSTANDER_CAMPAIGNS)
        load = Load(
            {"claim": design.claim(False)}, clients, seconds + 2, self.variables(rtt_ms, block)
        )
        run, beside = await self.load(
            (load, 0.0), (self.bystanders(design, rtt_ms, busy, seconds), BYSTANDER_START_DELAY)
        )
        await self.exact(name, run.count("claim"), block)
        await self.exact(f"{name}: bystanders beside it", beside.count("claim"), busy)
        return run, beside

    async def sold_out(
        self, design: Design, script: Script, clients: int, rtt_ms: float
    ) -> PgbenchRun:
        """Every client claiming on a sold-out campaign; it must still be exactly sold out."""
        gone = await self.world.campaigns(
            design, 1, total=SOLD_OUT_QUANTITY, issued=SOLD_OUT_QUANTITY
        )
        variables = self.variables(rtt_ms, gone)
        load = Load({"sold_out": script}, clients, self.settings.seconds, variables)
        (refused,) = await self.load((load, 0.0))
        counts = await self.world.counts(gone)
        if (counts.issued, counts.rows, counts.events) != (SOLD_OUT_QUANTITY, 0, 0):
            raise NotExact(f"{design.name}: a sold-out campaign issued more: {counts}")
        return refused

    async def row(self, design: Design, clients: int, rtt_ms: float) -> Row:
        name = f"{design.name}, {clients} clients, RTT {rtt_ms:g} ms"
        progress(f"{name}: bystanders alone")
        quiet = await self.world.campaigns(design, BYSTANDER_CAMPAIGNS)
        bystanders = self.bystanders(design, rtt_ms, quiet, self.settings.seconds)
        (alone,) = await self.load((bystanders, 0.0))
        await self.exact(f"{name}, bystanders alone", alone.count("claim"), quiet)

        progress(f"{name}: the sale on one campaign, bystanders beside it")
        sale_run, beside = await self.claims_beside_bystanders(
            f"{name}, sale", design, clients, rtt_ms, 1
        )
        issued = sale_run.count("claim")
        runs = [alone, sale_run, beside]

        with_key = None
        if self.settings.idempotency:
            progress(f"{name}: the sale, every claim with an Idempotency-Key")
            keyed, block = await self.claims(design, clients, rtt_ms, 1, key=True)
            await self.exact(f"{name}, sale with Idempotency-Key", keyed.count("claim"), block)
            with_key = Latency.of(keyed, "claim")
            runs.append(keyed)

        progress(
            f"{name}: the same load spread over {SPREAD_CAMPAIGNS} campaigns, bystanders beside it"
        )
        spread, beside_spread = await self.claims_beside_bystanders(
            f"{name}, spread", design, clients, rtt_ms, SPREAD_CAMPAIGNS
        )
        runs += [spread, beside_spread]

        sold_out = None
        if design.sold_out is not None:
            progress(f"{name}: claims on a sold-out campaign")
            refused = await self.sold_out(design, design.sold_out(), clients, rtt_ms)
            sold_out = Latency.of(refused, "sold_out")
            runs.append(refused)

        return Row(
            design=design.name,
            clients=clients,
            rtt_ms=rtt_ms,
            hot=Latency.of(sale_run, "claim"),
            hot_issued=issued,
            spread=Latency.of(spread, "claim"),
            with_key=with_key,
            sold_out=sold_out,
            bystanders_alone={s: alone.percentile(s, 0.99) for s in ("lookup", "claim")},
            bystanders_sale={s: beside.percentile(s, 0.99) for s in ("lookup", "claim")},
            bystanders_spread={s: beside_spread.percentile(s, 0.99) for s in ("lookup", "claim")},
            client_cpu_share=max(run.cpu_share for run in runs),
            lock_timeouts=sum(run.lock_timeouts for run in runs),
        )


async def measure(
    database_url: str, designs: Sequence[Design], settings: Settings, workdir: Path | None = None
) -> tuple[list[Row], list[str]]:
    """Every design x client count x RTT of `settings`, on a migrated database."""
    db = await asyncpg.connect(database_url)
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory(prefix="flash-", dir=workdir) as scratch:
            runner = Runner(db, Pgbench(database_url, Path(scratch)), settings)
            # The coupons bystanders look up: once (their codes are unique), any design's set-up.
            await runner.world.lookup_coupons(designs[0])
            for design in designs:
                for clients in settings.clients:
                    for rtt_ms in settings.rtts_ms:
                        rows.append(await runner.row(design, clients, rtt_ms))
    finally:
        await db.close()
    return rows, runner.checks
