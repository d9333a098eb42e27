"""svc-coupons' and svc-auth's hot paths, driven by wrk: the platform against two baselines.

    make bench            # or: .venv/bin/python bench/coupons_bench.py [--help]

This file is the run (arguments, set-up, the order of scenarios); its parts are in
bench/hotpaths/: `servers` (the five servers), `database`, `world` (set-up through the
API), `harness` (wrk runs, rounds, figures), `scenarios/` (one module per kind) and `report`.

Three servers, each its own process on a free loopback port, one uvicorn worker each:
- platform: `python -m devstack run`, every service behind the local gateway, as `make run`;
- bare: `bench/bare_app.py`, FastAPI + asyncpg running the platform's own statements
  (imported from its repositories), no auth, no layers, no event delivery;
- minimal: `bench/minimal_app.py`, FastAPI + asyncpg doing the least a request that reads
  or changes one row can: one primary-key read, or one conditional UPDATE.

The load comes from wrk (C, one thread; `bench/loadgen.py`, installed with apt-get when
missing), 32 connections, so the client is never the bottleneck: each table shows wrk's
own CPU per request and share of its core, and a scenario in which wrk used 90% of its
core or more gets no ratio. Scenarios (each printed with requests/s, p50/p99 latency,
server CPU per request for every server it runs on, and the ratios):

1. lookup: GET /api/v1/coupons/{code} with the owner's token, round and round over 160
   coupons; bare: the same statement; minimal: a primary-key read. Target: >= 0.6x bare,
   and p99 < 20 ms.
2. claim: POST /api/v1/campaigns/{id}/claim by one customer on an unlimited campaign;
   bare: the same statements; minimal: one conditional UPDATE. Target >= 0.5x bare, and
   the campaign's issued count and coupon rows grow by exactly the 201s answered.
3. redeem: POST /api/v1/coupons/{code}/redeem by the merchant's owner at an outlet, each
   coupon once; target >= 0.5x bare, redemptions and redeemed coupons exactly the 200s.
4. wallet: GET /api/v1/wallet by customers holding 10 coupons each; and
5. me: GET /api/v1/auth/me with access tokens svc-auth issued (a merchant owner's, so
   with a membership): target for both, server CPU per request within 2x lookup's.
6. token refresh: POST /api/v1/auth/token, grant_type=refresh_token, a fresh refresh
   token per request (refresh tokens rotate; reuse revokes the family): every one
   answered 200 and rotated. No target: it signs an RS256 token each time.
7. transfer accept and 8. listing accept (the swap), each gift or listing once (--exchange
   per server, a third a round), made through the platform's API beforehand; target >= 0.5x
   bare, every one verified.
9. flash crowd: 200 connections of distinct customers at a campaign of 50: answers/s
   (all but 50 are sold-out refusals) and exactly 50 issued; target >= 0.5x bare.
10. bulk codes: POST /api/v1/campaigns/{id}/codes {count: 100000} against a raw asyncpg
   COPY of the same rows; target <= 2x the COPY (one request: no load generator).

How a scenario runs. Reads (lookup, wallet, me, flash) run for a fixed time (--seconds,
3 by default) after a warm-up; writes send a list of distinct requests each exactly once
(wrk ends the run with the last answer, so every request sent was answered and counted),
sized from the rate seen so far to last about as long. Three rounds per server,
alternating who goes first; the median round's rate counts, and latency and CPU are the
medians of the rounds. Server CPU is the server process's (from /proc), until the
platform's events of the round are delivered (it delivers them in the background, after
answering): every round starts with the outbox delivered. "Other processes" is what the
rest of the machine used meanwhile: everything but wrk, the servers, this process,
the platform's DynamoDB (moto, a process of its own) and the database backends serving
the benchmark's database.

Set-up. PostgreSQL is DATABASE_URL's server when set, else an embedded one in
.local/bench-pgdata (never the developer's .local/pgdata; pgserver shares it between
concurrent runs); either way the run gets a fresh database, migrated by
devstack.stack.migrate and dropped at the end. The platform keeps its state (signing key,
logs) in a directory of the run's own under .local/bench-state, removed at the end unless
--keep-state: two runs at once do not clash. A run waits (up to 15 minutes) while the
database server has too few connections free for its servers' pools (the embedded server
is set to 300 on first use; two runs on a server with the default 100 do not fit side by
side). The token endpoint's per-address limit is raised for the platform under test (all
load comes from one address), and svc-coupons' per-caller ceilings too: still counted,
never reached. Lookup and claim also run, for five rounds, on two more platforms that
serve none of the set-up, alike (same database, key and issuer) but for the per-caller
limits: on, and off (COUPONS_CALLER_LIMITS=0). What the limits cost is the
median over rounds of the first one's CPU per request against the second's in the same
round; target under 5%. (Against the platform that built the world it would weigh what
that left behind too: a larger heap, its DynamoDB's data.)
The merchant, its outlet, the campaigns and the coupons that lookups, wallets and the
exchange's scenarios use are made through the platform's API; the coupons redeemed and
the refresh tokens refreshed (tens of thousands, one per request) are written straight
into their tables, as the platform's own statements would leave them (bench/seeding.py).

--profile samples the platform and the bare app with py-spy during their rounds (installed
into .local/bench-tools on first use; bench/profiling.py) and prints, per scenario, where
each one's CPU per request went, phase by phase, side by side; sampling costs the servers
CPU, so a profiled run's rates are not the ones to compare. --hold sets the world up and
waits, printing the servers' addresses, pids and tokens, for a profiler of one's own.

Two cores: wrk, the five servers, PostgreSQL and the other work on the machine share
them; read the ratios, and the other processes' share next to them. Exit status: 0 when
every scenario ran, met or not (a measurement, not a test); 1 on any unexpected answer,
wrong count or failed set-up.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from platform import python_version
from typing import Any

import asyncpg
import httpx
from hotpaths.base import PGDATA_DIR, STARTED, STATE_ROOT, BenchError, progress
from hotpaths.database import (
    Database,
    create_database,
    drop_database,
    enough_connections,
    events_delivered,
)
from hotpaths.harness import CONNECTIONS, LIMITS_ROUNDS, ROUNDS, Bench, Result
from hotpaths.report import print_codes, print_result, print_summary
from hotpaths.scenarios.codes import scenario_codes
from hotpaths.scenarios.exchange import scenario_swap, scenario_transfer
from hotpaths.scenarios.flash_crowd import FLASH_CONNECTIONS, scenario_flash
from hotpaths.scenarios.reads import scenario_lookup, scenario_me, scenario_wallet
from hotpaths.scenarios.writes import scenario_claim, scenario_redeem, scenario_refresh
from hotpaths.servers import Server, start_baseline, start_platform, wait_ready
from hotpaths.world import (
    REQUEST_TIMEOUT,
    SEED_CUSTOMERS,
    WALLET_COUPONS,
    Coupon,
    World,
    build_world,
    seed_coupons,
)
from loadgen import LoadError, ensure_wrk
from profiling import columns, ensure_py_spy
from sqlalchemy import make_url

from devstack.stack.bring_up import migrate
from devstack.stack.embedded import EmbeddedPostgres
from devstack.stack.services import REPO_ROOT
from devstack.testing.api import AuthApi

ME_USERS = 4
EMBEDDED_MAX_CONNECTIONS = 300  # two platforms and two baselines, each with full pools


SCENARIOS = (
    "lookup",
    "claim",
    "redeem",
    "wallet",
    "me",
    "refresh",
    "transfer",
    "swap",
    "flash",
    "codes",
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of a round")
    parser.add_argument(
        "--exchange", type=int, default=1500, help="gifts and listings accepted per server"
    )
    parser.add_argument("--codes", type=int, default=100_000, help="codes per bulk request")
    parser.add_argument("--codes-rounds", type=int, default=2)
    parser.add_argument(
        "--only", default=",".join(SCENARIOS), help=f"comma-separated, of {','.join(SCENARIOS)}"
    )
    parser.add_argument(
        "--hold",
        action="store_true",
        help="after set-up, print the servers' addresses and pids and wait (for a profiler)",
    )
    parser.add_argument("--keep-state", action="store_true", help="keep the run's state dir")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the platform and the bare app with py-spy during their rounds and print "
        "where their CPU per request went (costs them some CPU: not for ratios)",
    )
    args = parser.parse_args()
    if not 1 <= args.codes <= 100_000:
        parser.error("--codes is 1 to 100000 (the API's bound)")
    unknown = set(args.only.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}")
    return args


async def owner_logins(http: httpx.AsyncClient, world: World, count: int) -> list[dict[str, Any]]:
    """Access and refresh tokens svc-auth issues to the owner (a password grant each)."""
    api = AuthApi(http)
    logins = []
    for _ in range(count):
        logins.append(await api.login(world.owner_email))
    return logins


async def benchmark(args: argparse.Namespace, bench: Bench, state: Path) -> None:
    only = set(args.only.split(","))
    async with httpx.AsyncClient(base_url=bench.platform.base_url, timeout=REQUEST_TIMEOUT) as http:
        progress("set-up through the API: merchant applies, admin verifies, outlet, campaigns")
        world = await build_world(state, bench.platform, http)
        customers = world.customers(SEED_CUSTOMERS)
        progress(f"seeding {SEED_CUSTOMERS * WALLET_COUPONS} coupons through the claim endpoint")
        coupons = await seed_coupons(
            bench.platform, world, SEED_CUSTOMERS * WALLET_COUPONS, customers=customers
        )
        logins = await owner_logins(http, world, ME_USERS)
        await events_delivered(bench.db)
        if args.hold:
            await hold(bench, world, coupons, logins)
            return
        results: list[Result] = []

        def add(result: Result, key: str) -> None:
            sides = [s for s in ("platform", "bare") if f"{key}/{s}" in bench.samples]
            if sides:
                result.breakdown = columns(
                    {side: bench.samples[f"{key}/{side}"] for side in sides},
                    {side: result.figures[side].server_ms for side in sides},
                )
            results.append(result)

        lookup_ms = math.nan
        if "lookup" in only:
            add(await scenario_lookup(bench, coupons), "lookup")
            lookup_ms = results[-1].figures["platform"].server_ms
        if "claim" in only:
            add(await scenario_claim(bench, world), "claim")
        if "redeem" in only:
            add(await scenario_redeem(bench, world), "redeem")
        if "wallet" in only:
            add(await scenario_wallet(bench, customers, lookup_ms), "wallet")
        if "me" in only:
            tokens = [login["access_token"] for login in logins]
            add(await scenario_me(bench, tokens, lookup_ms), "me")
        if "refresh" in only:
            add(await scenario_refresh(bench, world), "token refresh")
        if "transfer" in only:
            add(await scenario_transfer(bench, world, args.exchange), "transfer accept")
        if "swap" in only:
            add(await scenario_swap(bench, world, args.exchange), "listing accept")
        if "flash" in only:
            add(await scenario_flash(bench, world), "flash crowd")
        codes = None
        if "codes" in only:
            codes = await scenario_codes(bench, world, args.codes, args.codes_rounds)
    for result in results:
        print_result(result)
    if codes is not None:
        print_codes(len(results) + 1, codes, args.codes, args.codes_rounds)
    print_summary(results, codes)


async def hold(
    bench: Bench, world: World, coupons: Sequence[Coupon], logins: Sequence[Mapping[str, Any]]
) -> None:
    """Servers up and a world made: what a profiler needs, printed; then wait for Ctrl-C."""
    print(f"platform {bench.platform.base_url} pid {bench.platform.process.pid}")
    print(f"bare     {bench.bare.base_url} pid {bench.bare.process.pid}")
    print(f"minimal  {bench.minimal.base_url} pid {bench.minimal.process.pid}")
    print(f"database {bench.database}")
    print(f"coupon {coupons[0].code} owner token: {coupons[0].owner_token}")
    print(f"merchant owner token: {world.owner_token}")
    print(f"owner access token (svc-auth): {logins[0]['access_token']}")
    print(f"outlet {world.outlet_id}", flush=True)
    await asyncio.Event().wait()


async def run(args: argparse.Namespace) -> int:
    # SIGTERM cancels the run like Ctrl-C does, so the finally below still stops the
    # servers and drops the database.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        wrk = ensure_wrk()
    except LoadError as exc:
        raise BenchError(str(exc)) from exc
    server_url = os.environ.get("DATABASE_URL")
    embedded: EmbeddedPostgres | None = None
    if server_url:
        # asyncpg, the baselines and the platform all take the plain postgresql:// form.
        plain = make_url(server_url).set(drivername="postgresql")
        server_url = plain.render_as_string(hide_password=False)
        where = "PostgreSQL at DATABASE_URL"
    else:
        progress(f"starting the embedded PostgreSQL in {PGDATA_DIR.relative_to(REPO_ROOT)}")
        embedded = EmbeddedPostgres(PGDATA_DIR, max_connections=EMBEDDED_MAX_CONNECTIONS)
        server_url = embedded.start()
        where = f"embedded PostgreSQL ({PGDATA_DIR.relative_to(REPO_ROOT)})"
    # A state directory of the run's own: two runs at once must not share keys or logs.
    STATE_ROOT.mkdir(parents=True, exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix=f"run-{os.getpid()}-", dir=STATE_ROOT))
    servers: list[Server] = []
    database: Database | None = None
    wrong: list[str] = []
    try:
        database = await create_database(server_url, where)
        progress(f"migrating {database.name}")
        os.environ["DATABASE_URL"] = database.url  # what devstack.stack.migrate reads
        await migrate()
        check = await asyncpg.connect(database.url)
        try:
            await enough_connections(check)
        finally:
            await check.close()
        servers.append(start_platform(state, database.url))
        servers.append(start_baseline(state, "bare", "bare_app", database.url))
        servers.append(start_baseline(state, "minimal", "minimal_app", database.url))
        platform, bare, minimal = servers
        progress(
            f"starting platform on :{platform.port}, bare app on :{bare.port}, "
            f"minimal app on :{minimal.port}"
        )
        await asyncio.gather(*(wait_ready(server) for server in servers))
        # Once the platform has made the run's signing key: the same key and issuer, so the
        # world's tokens hold on them too.
        limited = start_platform(state, database.url, platform.base_url, name="limited")
        unlimited = start_platform(
            state, database.url, platform.base_url, name="unlimited", caller_limits=False
        )
        servers += [limited, unlimited]
        progress(
            f"starting two more platforms, with per-caller limits on :{limited.port} and "
            f"without on :{unlimited.port}"
        )
        await asyncio.gather(wait_ready(limited), wait_ready(unlimited))
        db = await asyncpg.connect(database.url)
        try:
            version = await db.fetchval("SHOW server_version")
            print(
                f"coupons bench: {os.cpu_count()} CPUs shared by wrk, five servers and "
                f"PostgreSQL {version}; Python {python_version()}; {database.description}; "
                f"load average {os.getloadavg()[0]:.2f} at start"
            )
            dynamo = (
                "DynamoDB at DYNAMODB_ENDPOINT_URL"
                if os.environ.get("DYNAMODB_ENDPOINT_URL")
                else "its moto DynamoDB in a process of its own"
            )
            print(
                f"platform: python -m devstack run (all services behind the gateway, {dynamo}); "
                "limited, unlimited: two more, serving none of the set-up, with and without "
                "per-caller limits (lookup and claim); "
                "bare: uvicorn bench/bare_app.py; minimal: uvicorn bench/minimal_app.py; each "
                f"one worker, no access log. Load: {wrk} -t1 -c{CONNECTIONS} (flash crowd "
                f"-c{FLASH_CONNECTIONS}), {ROUNDS} rounds ({LIMITS_ROUNDS} for lookup and "
                f"claim) of {args.seconds:g} s per server, alternating; medians"
            )
            bench = Bench(
                db,
                database.name,
                platform,
                bare,
                minimal,
                limited,
                unlimited,
                args.seconds,
                state,
            )
            if args.profile:
                bench.py_spy = ensure_py_spy()
            await benchmark(args, bench, state)
            wrong = bench.wrong
        finally:
            await db.close()
        for server in servers:
            if server.process.poll() is not None:
                raise BenchError(f"{server.name} died during the run:\n{server.log_tail()}")
    finally:
        for server in servers:
            server.stop()
        if database is not None:
            await drop_database(server_url, database)
        if embedded is not None:
            embedded.stop()
        if not args.keep_state:
            shutil.rmtree(state, ignore_errors=True)
    print(f"run time: {time.monotonic() - STARTED:.0f} s")
    if wrong:
        for line in wrong:
            print(f"WRONG COUNT: {line}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    args = parse_args()
    try:
        return asyncio.run(run(args))
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("benchmark interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
