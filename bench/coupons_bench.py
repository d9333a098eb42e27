"""svc-coupons' and svc-auth's hot paths, driven by wrk: the platform against two baselines.

    make bench            # or: .venv/bin/python bench/coupons_bench.py [--help]

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
rest of the machine used meanwhile: everything but wrk, the three servers, this process,
the platform's DynamoDB (moto, a process of its own) and the database backends serving
the benchmark's database.

Set-up. PostgreSQL is DATABASE_URL's server when set, else an embedded one in
.local/bench-pgdata (never the developer's .local/pgdata; pgserver shares it between
concurrent runs); either way the run gets a fresh database, migrated by
devstack.stack.migrate and dropped at the end. The platform keeps its state (signing key,
logs) in a directory of the run's own under .local/bench-state, removed at the end unless
--keep-state: two runs at once do not clash. A run waits (up to 15 minutes) while the
database server has too few connections free for its servers' pools: two runs on one
server with the default max_connections of 100 do not fit side by side. The token
endpoint's per-address limit is raised for the platform under test (all load comes from
one address), and svc-coupons' per-caller ceilings too: still counted, never reached
(BENCH_CALLER_LIMITS=0 runs the platform without them, to see what counting costs).
The merchant, its outlet, the campaigns and the coupons that lookups, wallets and the
exchange's scenarios use are made through the platform's API; the coupons redeemed and
the refresh tokens refreshed (tens of thousands, one per request) are written straight
into their tables, as the platform's own statements would leave them (bench/seeding.py).

--profile samples the platform and the bare app with py-spy during their rounds (installed
into .local/bench-tools on first use; bench/profiling.py) and prints, per scenario, where
each one's CPU per request went, phase by phase, side by side; sampling costs the servers
CPU, so a profiled run's rates are not the ones to compare. --hold sets the world up and
waits, printing the servers' addresses, pids and tokens, for a profiler of one's own.

Two cores: wrk, the three servers, PostgreSQL and the other work on the machine share
them; read the ratios, and the other processes' share next to them. Exit status: 0 when
every scenario ran, met or not (a measurement, not a test); 1 on any unexpected answer,
wrong count or failed set-up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import cycle, islice
from pathlib import Path
from platform import python_version
from typing import Any, TypeVar

import asyncpg
import httpx
from bare_app import BARE_ACTOR
from loadgen import CpuWatch, HttpRequest, LoadError, WrkRun, ensure_wrk, run_wrk
from profiling import Sampler, columns, ensure_py_spy
from seeding import seed_active_coupons, seed_refresh_tokens
from sqlalchemy import make_url

from core.config import PlatformSettings
from devstack.api import AuthApi, bearer
from devstack.embedded import EmbeddedPostgres, free_port
from devstack.services import REPO_ROOT
from devstack.stack import migrate
from devstack.tokens import TestTokens
from svc_auth.utils.signing import LOCAL_PRIVATE_KEY_FILE, KeyRing, SigningKey
from svc_coupons.repositories.coupons import COPY_COLUMNS
from svc_coupons.utils.codes import new_codes

BENCH_DIR = Path(__file__).resolve().parent
STATE_ROOT = REPO_ROOT / ".local" / "bench-state"
PGDATA_DIR = REPO_ROOT / ".local" / "bench-pgdata"
LOOPBACK = "127.0.0.1"

LOOKUP_TARGET = 0.6  # platform requests/s >= 0.6x bare
LOOKUP_P99_MS = 20.0  # and its p99 below this
CLAIM_TARGET = 0.5
REDEEM_TARGET = 0.5
TRANSFER_TARGET = 0.5
SWAP_TARGET = 0.5
FLASH_TARGET = 0.5
CPU_VS_LOOKUP = 2.0  # wallet, me: server CPU/request <= 2x lookup's
CODES_TARGET = 2.0  # platform time <= 2x the raw COPY

CONNECTIONS = 32
FLASH_CONNECTIONS = 200
FLASH_QUANTITY = 50
CLAIMS_PER_CAMPAIGN = 10_000  # a claim round's campaign: one customer may claim this many
FLASH_CUSTOMERS = 2000
SEED_CUSTOMERS = 16
WALLET_COUPONS = 10  # each lookup/wallet customer's coupons
WARMUP_SECONDS = 1
WARMUP_WRITES = 200
EXCHANGE_WARMUP = 32
EXCHANGE_CAMPAIGNS = 32  # campaigns the exchange's coupons are claimed from, in turn
ME_USERS = 4
ROUNDS = 3
ORDER_AMOUNT = 2000
MAX_ITEMS = 40_000  # a write round's requests, at most

START_TIMEOUT = 90.0
DELIVERY_TIMEOUT = 60.0
OUTBOX_SCHEMAS = ("auth", "merchants", "coupons")
REQUEST_TIMEOUT = 30.0
CODES_TIMEOUT = 120.0
# Variables a developer may have set for their own stack; the platform under test must use
# the bench's own key, issuer and local settings.
NOT_INHERITED = frozenset(
    {
        "ENVIRONMENT",
        "JWT_ISSUER",
        "JWT_AUDIENCE",
        "JWT_JWKS",
        "AUTH_SIGNING_KEY",
        "AUTH_PREVIOUS_SIGNING_KEY",
        "COUPONS_MERCHANTS_API_URL",
        "EVENT_BUS_NAME",
        "LOCAL_STATE_DIR",
        "PORT",
    }
)


class BenchError(RuntimeError):
    """An unexpected answer, a wrong count or a failed set-up: the run's figures are void."""


STARTED = time.monotonic()


def progress(message: str) -> None:
    print(f"  {time.monotonic() - STARTED:5.1f}s {message}", file=sys.stderr, flush=True)


# --- servers -------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    port: int
    health_path: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Terminate, then kill: only this server's own process, by its handle."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _spawn(
    state: Path, name: str, args: list[str], env: dict[str, str], port: int, health: str
) -> Server:
    log_path = state / f"{name}.log"
    with log_path.open("wb") as log:
        # The child keeps its own copy of the file descriptor.
        process = subprocess.Popen(  # noqa: S603
            args, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    return Server(name, port, health, process, log_path)


def _inherited_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}


def start_platform(state: Path, database_url: str, issuer: str | None = None) -> Server:
    """`issuer`: the tokens' (default: the platform's own address, as `make run` has it)."""
    port = free_port()
    env = _inherited_env() | {
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "LOCAL_STATE_DIR": str(state),
        "JWT_ISSUER": issuer or f"http://{LOOPBACK}:{port}",
        "COUPONS_MERCHANTS_API_URL": f"http://{LOOPBACK}:{port}",
        # Every request of the load comes from one address.
        "AUTH_TOKEN_PER_ADDRESS": "1000000000",
        # A scenario's load is one caller, or a few: limits still counted, never reached
        # (BENCH_CALLER_LIMITS=0 runs without them, to measure what counting costs).
        "COUPONS_CALLER_LIMITS": os.environ.get("BENCH_CALLER_LIMITS", "1"),
        "COUPONS_CALLER_WRITES_PER_WINDOW": "1000000000",
        "COUPONS_CALLER_LOOKUPS_PER_WINDOW": "1000000000",
        # A claim round's whole load is one campaign, and the bare app has no bound: what is
        # measured is what the database gives one campaign, not the per-process bound that
        # sheds a hot campaign's excess with 429 campaign_busy (services.claims_in_flight).
        "COUPONS_CLAIMS_IN_FLIGHT_PER_CAMPAIGN": "1000000000",
    }
    args = [sys.executable, "-m", "devstack", "run"]
    return _spawn(state, "platform", args, env, port, "/api/v1/coupons/health")


def _start_baseline(state: Path, name: str, module: str, database_url: str) -> Server:
    port = free_port()
    # The platform's pool per service: pool_size connections plus max_overflow.
    settings = PlatformSettings()
    env = _inherited_env() | {
        "BENCH_DATABASE_URL": database_url,
        "BENCH_POOL_MIN": str(settings.database_pool_size),
        "BENCH_POOL_MAX": str(settings.database_pool_size + settings.database_max_overflow),
    }
    # devstack runs uvicorn with log_config=None, access_log=False and no server header,
    # its loop and HTTP parser at their defaults; the same here, and one worker.
    args = [
        *(sys.executable, "-m", "uvicorn", f"{module}:app", "--app-dir", str(BENCH_DIR)),
        *("--host", LOOPBACK, "--port", str(port), "--workers", "1"),
        *("--no-access-log", "--no-server-header", "--log-level", "warning"),
    ]
    return _spawn(state, name, args, env, port, "/health")


async def wait_ready(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    async with httpx.AsyncClient(base_url=server.base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise BenchError(f"{server.name} exited at start:\n{server.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(server.health_path)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise BenchError(f"{server.name} not ready after {START_TIMEOUT:.0f} s:\n{server.log_tail()}")


# --- database ------------------------------------------------------------------------------


@dataclass
class Database:
    url: str
    name: str
    created: bool
    description: str


async def create_database(server_url: str, description: str) -> Database:
    """A fresh database on the server; the server's own one when we may not create any."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.InsufficientPrivilegeError:
        progress("no CREATEDB privilege: benchmarking in DATABASE_URL's database itself")
        return Database(server_url, make_url(server_url).database or "", False, description)
    finally:
        await admin.close()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return Database(url, name, True, f"{description}, fresh database {name}")


async def drop_database(server_url: str, database: Database) -> None:
    if not database.created:
        return
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    finally:
        await admin.close()


async def undelivered_events(db: asyncpg.Connection) -> list[str]:
    """Each undelivered event of the platform: its service, type, attempts and last error."""
    found: list[str] = []
    for schema in OUTBOX_SCHEMAS:
        # The bare app writes outbox rows too (its statements are the platform's), but
        # nothing of it delivers them.
        rows = await db.fetch(
            f'SELECT type, attempts, last_error FROM "{schema}".outbox '  # noqa: S608
            "WHERE delivered_at IS NULL AND actor IS DISTINCT FROM $1 ORDER BY occurred_at",
            BARE_ACTOR,
        )
        found += [
            f"{schema} {r['type']} ({r['attempts']} attempts: {r['last_error']})" for r in rows
        ]
    return found


async def events_delivered(db: asyncpg.Connection) -> float:
    """Wait until the platform has delivered every event it committed; the seconds waited."""
    started = time.monotonic()
    while left := await undelivered_events(db):
        if time.monotonic() - started > DELIVERY_TIMEOUT:
            raise BenchError(
                f"{len(left)} events undelivered after {DELIVERY_TIMEOUT:.0f} s, the first: "
                + "; ".join(left[:3])
            )
        await asyncio.sleep(0.02)
    return time.monotonic() - started


CONNECTIONS_WAIT = 900.0  # seconds to wait for another run to free the server's connections


async def enough_connections(db: asyncpg.Connection) -> None:
    """Wait, then give up, rather than fail halfway, while the server cannot take this run's
    connections: full pools (reads' included) for svc-coupons, svc-auth and each baseline,
    and a few for svc-merchants and this process. Two runs at once on one server with the default
    max_connections of 100 do not fit: the second waits for the first."""
    settings = PlatformSettings()
    needed = (
        4 * (settings.database_pool_size + settings.database_max_overflow)
        + 2 * settings.database_read_pool_size
        + 8
    )
    limit = int(await db.fetchval("SHOW max_connections"))
    reserved = int(await db.fetchval("SHOW superuser_reserved_connections"))
    deadline = time.monotonic() + CONNECTIONS_WAIT
    while True:
        in_use = int(await db.fetchval("SELECT count(*) FROM pg_stat_activity"))
        free = limit - reserved - in_use
        if free >= needed:
            return
        if time.monotonic() > deadline:
            raise BenchError(
                f"PostgreSQL has {free} connections free (max_connections {limit}, {in_use} "
                f"in use) and this run may need {needed}: another bench run or test suite "
                "holds them. Point DATABASE_URL at another server, or raise max_connections."
            )
        progress(
            f"waiting: PostgreSQL has {free} connections free, this run may need {needed} "
            "(another run or test suite is using the server)"
        )
        await asyncio.sleep(10)


# --- set-up through the platform's API (httpx: set-up is not measured) ---------------------


TLS_CONTEXT = ssl.create_default_context()  # loaded once: never used on loopback


async def setup_calls(
    server: Server,
    calls: Sequence[tuple[str, str, Mapping[str, str], Any]],
    *,
    expect: int,
    concurrency: int = 16,
) -> list[Any]:
    """Set-up requests through the API, `concurrency` at a time; their JSON answers, in
    order. Anything but `expect` fails the run."""
    answers: list[Any] = [None] * len(calls)
    queue = iter(enumerate(calls))
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=REQUEST_TIMEOUT, verify=TLS_CONTEXT
    ) as http:

        async def worker() -> None:
            for index, (method, path, headers, body) in queue:
                response = await http.request(method, path, headers=headers, json=body)
                if response.status_code != expect:
                    raise BenchError(
                        f"set-up: {method} {path} answered {response.status_code}: "
                        f"{response.text[:500]}"
                    )
                answers[index] = response.json()

        async with asyncio.TaskGroup() as group:
            for _ in range(min(concurrency, len(calls))):
                group.create_task(worker())
    return answers


@dataclass(frozen=True)
class Customer:
    id: uuid.UUID
    token: str


@dataclass
class Coupon:
    id: str
    code: str
    owner_token: str
    owner_id: str


@dataclass
class World:
    tokens: TestTokens
    merchant_id: str
    outlet_id: str
    owner_id: str
    owner_email: str
    owner_token: str
    http: httpx.AsyncClient

    async def call(self, method: str, path: str, token: str, body: Any, expect: int) -> Any:
        response = await self.http.request(method, path, json=body, headers=bearer(token))
        if response.status_code != expect:
            raise BenchError(
                f"set-up: {method} {path} answered {response.status_code}: {response.text[:500]}"
            )
        return response.json()

    async def campaign(
        self, title: str, *, total_quantity: int | None, per_customer_limit: int, publish: bool
    ) -> str:
        now = datetime.now(UTC)
        body = {
            "merchant_id": self.merchant_id,
            "title": title,
            "discount_type": "percentage",
            "discount_value": 10,
            "total_quantity": total_quantity,
            "per_customer_limit": per_customer_limit,
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=30)).isoformat(),
        }
        campaign = await self.call("POST", "/api/v1/campaigns", self.owner_token, body, 201)
        campaign_id: str = campaign["id"]
        if publish:
            path = f"/api/v1/campaigns/{campaign_id}/publish"
            await self.call("POST", path, self.owner_token, None, 200)
        return campaign_id

    def customers(self, count: int) -> list[Customer]:
        """New customers: a token each, no account (none is needed to be one)."""
        ids = [uuid.uuid4() for _ in range(count)]
        return [Customer(subject, self.tokens.token(subject=subject)) for subject in ids]


def load_tokens(state: Path, issuer: str) -> TestTokens:
    """Tokens signed with the key the platform wrote at start, as svc-auth would sign them."""
    pem = (state / "keys" / LOCAL_PRIVATE_KEY_FILE).read_text()
    return TestTokens(KeyRing(SigningKey.from_pem(pem)), issuer=issuer)


async def build_world(
    state: Path, platform: Server, http: httpx.AsyncClient, issuer: str | None = None
) -> World:
    tokens = load_tokens(state, issuer or platform.base_url)
    # The owner registers and applies (the token's subject is the applicant), an admin
    # verifies; the owner membership svc-auth then grants is in the owner's next token.
    email = f"owner-{uuid.uuid4().hex[:8]}@bench.example.com"
    owner = await AuthApi(http).register(email)
    applicant = uuid.UUID(owner["id"])
    world = World(tokens, "", "", owner["id"], email, "", http)
    merchant = await world.call(
        "POST",
        "/api/v1/merchants",
        tokens.token(subject=applicant),
        {"name": "Bench Bakery", "country": "DE", "currency": "EUR", "timezone": "Europe/Berlin"},
        201,
    )
    world.merchant_id = merchant["id"]
    await world.call(
        "POST", f"/api/v1/merchants/{world.merchant_id}/verify", tokens.admin(), None, 200
    )
    world.owner_token = tokens.token(
        subject=applicant,
        memberships=((uuid.UUID(world.merchant_id), "owner"),),
        client_id="merchant-portal",
    )
    outlet = await world.call(
        "POST",
        f"/api/v1/merchants/{world.merchant_id}/outlets",
        world.owner_token,
        {"name": "Main street", "address": "Hauptstrasse 1, 10115 Berlin"},
        201,
    )
    world.outlet_id = outlet["id"]
    return world


async def seed_coupons(
    platform: Server,
    world: World,
    count: int,
    *,
    customers: Sequence[Customer],
    campaigns: int = 1,
) -> list[Coupon]:
    """Active coupons made by the platform's own claim endpoint, for `customers` in turn,
    from `campaigns` new campaigns in turn."""
    campaign_ids = [
        await world.campaign(
            "Bench seed", total_quantity=None, per_customer_limit=10_000, publish=True
        )
        for _ in range(campaigns)
    ]
    owners = list(islice(cycle(customers), count))
    paths = islice(cycle(f"/api/v1/campaigns/{c}/claim" for c in campaign_ids), count)
    bodies = await setup_calls(
        platform,
        [("POST", path, bearer(o.token), None) for path, o in zip(paths, owners, strict=True)],
        expect=201,
    )
    coupons = [
        Coupon(body["id"], body["code"], owner.token, body["owner_user_id"])
        for owner, body in zip(owners, bodies, strict=True)
    ]
    if any(c.owner_id != str(owner.id) for c, owner in zip(coupons, owners, strict=True)):
        raise BenchError("set-up: a claimed coupon is not its claimant's")
    return coupons


@dataclass(frozen=True)
class Gift:
    """A pending transfer made through the platform's API, and who is to accept it."""

    coupon: Coupon
    transfer_id: str
    claim_token: str
    recipient: Customer


async def give_coupons(
    platform: Server, coupons: Sequence[Coupon], recipients: Sequence[Customer]
) -> list[Gift]:
    """Each coupon given by its owner through POST /api/v1/coupons/{code}/transfers."""
    bodies = await setup_calls(
        platform,
        [
            ("POST", f"/api/v1/coupons/{c.code}/transfers", bearer(c.owner_token), None)
            for c in coupons
        ],
        expect=201,
    )
    gifts = [
        Gift(coupon, body["transfer_id"], body["claim_token"], recipient)
        for coupon, body, recipient in zip(
            coupons, bodies, islice(cycle(recipients), len(coupons)), strict=True
        )
    ]
    if any(b["coupon"]["id"] != g.coupon.id for g, b in zip(gifts, bodies, strict=True)):
        raise BenchError("set-up: a transfer holds another coupon than the one given")
    return gifts


@dataclass(frozen=True)
class Offer:
    """An open listing made through the platform's API, and the coupon its taker offers."""

    listing_id: str
    listed: Coupon
    offered: Coupon


async def list_coupons(
    platform: Server, listed: Sequence[Coupon], offered: Sequence[Coupon]
) -> list[Offer]:
    """Each of `listed` put on the exchange by its owner, wanting anything; each paired with
    the coupon of `offered` at its place."""
    bodies = await setup_calls(
        platform,
        [
            (
                "POST",
                "/api/v1/exchange/listings",
                bearer(c.owner_token),
                {"coupon_code": c.code, "wants": {}},
            )
            for c in listed
        ],
        expect=201,
    )
    offers = [
        Offer(body["id"], coupon, offer)
        for body, coupon, offer in zip(bodies, listed, offered, strict=True)
    ]
    if any(b["coupon"]["id"] != o.listed.id for o, b in zip(offers, bodies, strict=True)):
        raise BenchError("set-up: a listing holds another coupon than the one listed")
    return offers


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Batch:
    """What one wrk run sends, what answers it may get, and how the database is checked
    against them afterwards (None: nothing to check)."""

    requests: list[HttpRequest]
    accept: frozenset[str]
    check: Callable[[WrkRun], Awaitable[list[str]]] | None = None


@dataclass
class Side:
    """One server's part in a scenario: `batch(n)` makes the requests of a run (n of them
    for a write run; the list to go round for a read run, n then 0)."""

    server: Server
    batch: Callable[[int], Awaitable[Batch]]


@dataclass
class Bench:
    db: asyncpg.Connection
    database: str
    platform: Server
    bare: Server
    minimal: Server
    seconds: float
    state: Path
    py_spy: str | None = None  # --profile: the platform's rounds are sampled
    wrong: list[str] = field(default_factory=list)
    samples: dict[str, Counter[str]] = field(default_factory=dict)

    async def run(
        self,
        server: Server,
        batch: Batch,
        *,
        mode: str,
        connections: int,
        seconds: float,
        profile_as: str | None = None,
    ) -> WrkRun:
        settle = (lambda: events_delivered(self.db)) if server is self.platform else None
        sampler = None
        if self.py_spy and profile_as and server is not self.minimal:
            output = self.state / f"profile-{len(self.samples)}-{uuid.uuid4().hex[:6]}.txt"
            sampler = Sampler(self.py_spy, server.process.pid, output)
        try:
            run = await run_wrk(
                server.base_url,
                batch.requests,
                mode=mode,
                connections=connections,
                seconds=seconds if mode == "cycle" else 120,
                watch=CpuWatch(server.process.pid, self.database),
                settle=settle,
            )
        except LoadError as exc:
            raise BenchError(f"{server.name}: {exc}\n{server.log_tail()}") from exc
        finally:
            if sampler is not None and profile_as is not None:
                key = f"{profile_as}/{server.name}"
                self.samples.setdefault(key, Counter()).update(sampler.stop())
        unexpected = {k: n for k, n in run.outcomes.items() if k not in batch.accept}
        if unexpected:
            raise BenchError(f"{server.name}: unexpected answers {unexpected}")
        if run.socket_errors["connect"] or run.socket_errors["timeout"]:
            raise BenchError(f"{server.name}: wrk's socket errors {run.socket_errors}")
        if mode == "once" and run.requests != len(batch.requests):
            raise BenchError(
                f"{server.name}: {run.requests} answers to {len(batch.requests)} requests"
            )
        if batch.check is not None:
            self.wrong += [f"{server.name}: {line}" for line in await batch.check(run)]
        return run

    async def measure(
        self,
        name: str,
        sides: Mapping[str, Side],
        *,
        mode: str,
        connections: int = CONNECTIONS,
        fixed: int | None = None,
    ) -> dict[str, list[WrkRun]]:
        """A warm-up, then ROUNDS rounds per server, who goes first rotating. Write runs
        (`once`) send about `seconds` worth of requests at the rate last seen, or `fixed`."""
        runs: dict[str, list[WrkRun]] = {key: [] for key in sides}
        rate: dict[str, float] = {}

        def size(key: str) -> int:
            if mode == "cycle":
                return 0
            if fixed is not None:
                return fixed
            return max(WARMUP_WRITES, min(MAX_ITEMS, math.ceil(rate[key] * self.seconds)))

        for key, side in sides.items():
            progress(f"{name}: warm-up on {side.server.name}")
            # A fixed-size scenario's items are made beforehand: EXCHANGE_WARMUP of them warm.
            warmup = EXCHANGE_WARMUP if fixed is not None else WARMUP_WRITES
            warm = await side.batch(0 if mode == "cycle" else warmup)
            seconds = WARMUP_SECONDS
            rate[key] = (
                await self.run(
                    side.server, warm, mode=mode, connections=connections, seconds=seconds
                )
            ).per_second
        keys = list(sides)
        for round_ in range(ROUNDS):
            order = keys[round_ % len(keys) :] + keys[: round_ % len(keys)]
            for key in order:
                side = sides[key]
                batch = await side.batch(size(key))
                progress(
                    f"{name} round {round_ + 1}: {side.server.name}"
                    + (f", {len(batch.requests)} requests" if mode == "once" else "")
                )
                run = await self.run(
                    side.server,
                    batch,
                    mode=mode,
                    connections=connections,
                    seconds=self.seconds,
                    profile_as=name,
                )
                rate[key] = run.per_second
                runs[key].append(run)
        return runs


@dataclass
class Figures:
    """A server's figures over a scenario's rounds: the median round's."""

    rate: float
    p50: float
    p99: float
    server_ms: float
    client_ms: float
    client_share: float  # the largest of the rounds
    requests: int

    @classmethod
    def of(cls, runs: Sequence[WrkRun]) -> Figures:
        def median(figure: Callable[[WrkRun], float]) -> float:
            return statistics.median(figure(run) for run in runs)

        return cls(
            rate=median(lambda r: r.per_second),
            p50=median(lambda r: r.p50_ms),
            p99=median(lambda r: r.p99_ms),
            server_ms=median(lambda r: r.server_ms_per_request),
            client_ms=median(lambda r: r.client_ms_per_request),
            client_share=max(r.client_share for r in runs),
            requests=sum(r.requests for r in runs),
        )


@dataclass
class Result:
    number: int
    title: str
    unit: str
    figures: dict[str, Figures]  # by column: platform, bare, minimal
    target: str
    met: bool | None  # None: no target, or no verdict (client saturated)
    ratios: dict[str, float]
    notes: list[str] = field(default_factory=list)
    foreign: float = 0.0
    saturated: bool = False
    breakdown: list[str] = field(default_factory=list)  # --profile: the platform's CPU


def result_of(
    number: int,
    title: str,
    unit: str,
    runs: Mapping[str, Sequence[WrkRun]],
    *,
    target: str,
    verdict: Callable[[dict[str, Figures]], bool] | None,
    notes: Sequence[str] = (),
) -> Result:
    figures = {key: Figures.of(r) for key, r in runs.items()}
    every = [run for r in runs.values() for run in r]
    saturated = any(run.client_saturated for run in every)
    platform = figures["platform"]
    ratios = {
        key: platform.rate / f.rate for key, f in figures.items() if key != "platform" and f.rate
    }
    met = None if verdict is None or saturated else verdict(figures)
    foreign = sum(run.foreign_cpu for run in every) / (
        sum(run.watched for run in every) * (os.cpu_count() or 1)
    )
    return Result(
        number, title, unit, figures, target, met, ratios, list(notes), foreign, saturated
    )


# --- requests ------------------------------------------------------------------------------

READ_OK = frozenset({"200"})
Item = TypeVar("Item")


def cycle_of(
    requests: list[HttpRequest], accept: frozenset[str] = READ_OK
) -> Callable[[int], Awaitable[Batch]]:
    async def batch(_: int) -> Batch:
        return Batch(requests, accept)

    return batch


def minimal_side(bench: Bench, *, write: bool) -> Side:
    """The minimal app's counterpart: a primary-key read, or one conditional UPDATE, on
    rows taken in turn."""
    if not write:
        reads = [HttpRequest("GET", f"/items/{i}") for i in range(1, 161)]
        return Side(bench.minimal, cycle_of(reads))

    async def batch(n: int) -> Batch:
        return Batch(
            [HttpRequest("POST", f"/items/{i % 1000 + 1}/take") for i in range(n)], READ_OK
        )

    return Side(bench.minimal, batch)


# --- scenarios -----------------------------------------------------------------------------


async def scenario_lookup(bench: Bench, coupons: Sequence[Coupon]) -> Result:
    platform = [
        HttpRequest("GET", f"/api/v1/coupons/{c.code}", bearer(c.owner_token)) for c in coupons
    ]
    bare = [HttpRequest("GET", f"/coupons/{c.code}") for c in coupons]
    runs = await bench.measure(
        "lookup",
        {
            "platform": Side(bench.platform, cycle_of(platform)),
            "bare": Side(bench.bare, cycle_of(bare)),
            "minimal": minimal_side(bench, write=False),
        },
        mode="cycle",
    )

    def verdict(f: dict[str, Figures]) -> bool:
        p = f["platform"]
        return p.rate / f["bare"].rate >= LOOKUP_TARGET and p.p99 < LOOKUP_P99_MS

    return result_of(
        1,
        f"Lookup: GET /api/v1/coupons/{{code}} with the owner's token, {len(coupons)} coupons "
        "in turn; minimal: a primary-key read",
        "requests/s",
        runs,
        target=f">= {LOOKUP_TARGET:.2f}x bare, p99 < {LOOKUP_P99_MS:.0f} ms",
        verdict=verdict,
    )


def ratio_verdict(target: float) -> Callable[[dict[str, Figures]], bool]:
    return lambda f: f["platform"].rate / f["bare"].rate >= target


async def issued_counts(db: asyncpg.Connection, campaign_id: str) -> tuple[int, int]:
    row = await db.fetchrow(
        "SELECT issued_count, (SELECT count(*) FROM coupons.coupons WHERE campaign_id = $1) "
        "FROM coupons.campaigns WHERE id = $1",
        uuid.UUID(campaign_id),
    )
    assert row is not None
    return int(row[0]), int(row[1])


async def scenario_claim(bench: Bench, world: World) -> Result:
    """One customer per server claims again and again from a campaign of its own per run
    (the per-customer limit is at most 10,000), unlimited in quantity."""
    customer = world.customers(1)[0]

    def side(server: Server) -> Side:
        async def batch(n: int) -> Batch:
            n = min(n, CLAIMS_PER_CAMPAIGN)  # the customer's limit on one campaign
            campaign_id = await world.campaign(
                f"Claim {server.name}",
                total_quantity=None,
                per_customer_limit=CLAIMS_PER_CAMPAIGN,
                publish=True,
            )
            if server is bench.platform:
                path, headers = f"/api/v1/campaigns/{campaign_id}/claim", bearer(customer.token)
            else:
                path, headers = f"/campaigns/{campaign_id}/claim", {"X-User-Id": str(customer.id)}

            async def check(run: WrkRun) -> list[str]:
                issued, rows = await issued_counts(bench.db, campaign_id)
                claimed = run.outcomes["201"]
                if claimed == issued == rows == n:
                    return []
                return [f"claim: {claimed} x 201 of {n}; DB issued_count {issued}, rows {rows}"]

            return Batch(
                [HttpRequest("POST", path, headers, b"")] * n,
                frozenset({"201"}),
                check,
            )

        return Side(server, batch)

    runs = await bench.measure(
        "claim",
        {
            "platform": side(bench.platform),
            "bare": side(bench.bare),
            "minimal": minimal_side(bench, write=True),
        },
        mode="once",
    )
    return result_of(
        2,
        "Claim: POST /api/v1/campaigns/{id}/claim, one customer, unlimited campaign; "
        "minimal: one conditional UPDATE",
        "claims/s",
        runs,
        target=f">= {CLAIM_TARGET:.2f}x bare, exact",
        verdict=ratio_verdict(CLAIM_TARGET),
        notes=["every run: the campaign's issued_count and coupon rows equal the 201s answered"],
    )


async def scenario_redeem(bench: Bench, world: World) -> Result:
    """Coupons seeded into one campaign (bench/seeding.py), each redeemed once by the
    merchant's owner at the outlet."""
    campaign_id = uuid.UUID(
        await world.campaign("Redeem", total_quantity=None, per_customer_limit=10_000, publish=True)
    )
    body = {"outlet_id": world.outlet_id, "order_amount": ORDER_AMOUNT}

    def side(server: Server) -> Side:
        async def batch(n: int) -> Batch:
            seeded = await seed_active_coupons(
                bench.db, campaign_id=campaign_id, owner_id=uuid.uuid4(), count=n
            )
            if server is bench.platform:
                requests = [
                    HttpRequest.json(
                        "POST", f"/api/v1/coupons/{code}/redeem", body, bearer(world.owner_token)
                    )
                    for _, code in seeded
                ]
            else:
                requests = [
                    HttpRequest.json("POST", f"/coupons/{code}/redeem", body) for _, code in seeded
                ]

            async def check(run: WrkRun) -> list[str]:
                ids = [coupon_id for coupon_id, _ in seeded]
                row = await bench.db.fetchrow(
                    "SELECT (SELECT count(*) FROM coupons.redemptions WHERE coupon_id = ANY($1)),"
                    " (SELECT count(*) FROM coupons.coupons"
                    "  WHERE id = ANY($1) AND status = 'redeemed')",
                    ids,
                )
                assert row is not None
                if run.outcomes["200"] == row[0] == row[1] == n:
                    return []
                return [
                    f"redeem: {run.outcomes['200']} x 200 of {n}; DB redemptions {row[0]}, "
                    f"coupons redeemed {row[1]}"
                ]

            return Batch(requests, READ_OK, check)

        return Side(server, batch)

    runs = await bench.measure(
        "redeem",
        {
            "platform": side(bench.platform),
            "bare": side(bench.bare),
            "minimal": minimal_side(bench, write=True),
        },
        mode="once",
    )
    return result_of(
        3,
        "Redeem: POST /api/v1/coupons/{code}/redeem by the merchant's owner, each coupon once; "
        "minimal: one conditional UPDATE",
        "redemptions/s",
        runs,
        target=f">= {REDEEM_TARGET:.2f}x bare, exact",
        verdict=ratio_verdict(REDEEM_TARGET),
        notes=["every run: redemptions and redeemed coupons equal the 200s answered"],
    )


def cpu_target(lookup_ms: float) -> tuple[str, Callable[[dict[str, Figures]], bool] | None]:
    """The target against lookup's CPU per request, and its verdict; none when lookup did
    not run (`--only` without it)."""
    if math.isnan(lookup_ms):
        return f"CPU <= {CPU_VS_LOOKUP:.0f}x lookup's (lookup not run)", None
    return (
        f"CPU <= {CPU_VS_LOOKUP:.0f}x lookup's ({lookup_ms:.2f} ms)",
        lambda f: f["platform"].server_ms <= CPU_VS_LOOKUP * lookup_ms,
    )


async def scenario_wallet(bench: Bench, customers: Sequence[Customer], lookup_ms: float) -> Result:
    requests = [HttpRequest("GET", "/api/v1/wallet", bearer(c.token)) for c in customers]
    runs = await bench.measure(
        "wallet",
        {
            "platform": Side(bench.platform, cycle_of(requests)),
            "minimal": minimal_side(bench, write=False),
        },
        mode="cycle",
    )
    target, verdict = cpu_target(lookup_ms)
    return result_of(
        4,
        f"Wallet: GET /api/v1/wallet by {len(customers)} customers of {WALLET_COUPONS} coupons "
        "each; minimal: a primary-key read",
        "requests/s",
        runs,
        target=target,
        verdict=verdict,
    )


async def scenario_me(bench: Bench, access_tokens: Sequence[str], lookup_ms: float) -> Result:
    requests = [HttpRequest("GET", "/api/v1/auth/me", bearer(t)) for t in access_tokens]
    runs = await bench.measure(
        "me",
        {
            "platform": Side(bench.platform, cycle_of(requests)),
            "minimal": minimal_side(bench, write=False),
        },
        mode="cycle",
    )
    target, verdict = cpu_target(lookup_ms)
    return result_of(
        5,
        f"Me: GET /api/v1/auth/me, {len(access_tokens)} access tokens svc-auth issued to a "
        "merchant owner; minimal: a primary-key read",
        "requests/s",
        runs,
        target=target,
        verdict=verdict,
    )


async def scenario_refresh(bench: Bench, world: World) -> Result:
    """A fresh refresh token per request, seeded like the one the owner's sign-in got."""
    row = await bench.db.fetchrow(
        "SELECT user_id, client_id, scope FROM auth.refresh_tokens WHERE user_id = $1 LIMIT 1",
        uuid.UUID(world.owner_id),
    )
    if row is None:
        raise BenchError("set-up: the owner's sign-in left no refresh token")

    async def batch(n: int) -> Batch:
        tokens = await seed_refresh_tokens(
            bench.db,
            user_id=row["user_id"],
            client_id=row["client_id"],
            scope=row["scope"],
            count=n,
        )
        requests = [
            HttpRequest.form(
                "/api/v1/auth/token",
                {"grant_type": "refresh_token", "refresh_token": t, "client_id": row["client_id"]},
            )
            for t in tokens
        ]

        async def check(run: WrkRun) -> list[str]:
            from svc_auth.utils.opaque import digest

            rotated = await bench.db.fetchval(
                "SELECT count(*) FROM auth.refresh_tokens"
                " WHERE token_hash = ANY($1) AND rotated_at IS NOT NULL AND revoked_at IS NULL",
                [digest(t) for t in tokens],
            )
            if run.outcomes["200"] == rotated == n:
                return []
            return [f"refresh: {run.outcomes['200']} x 200 of {n}; DB rotated {rotated}"]

        return Batch(requests, READ_OK, check)

    runs = await bench.measure(
        "token refresh",
        {"platform": Side(bench.platform, batch), "minimal": minimal_side(bench, write=True)},
        mode="once",
    )
    return result_of(
        6,
        "Token refresh: POST /api/v1/auth/token grant_type=refresh_token, a fresh refresh "
        "token each; minimal: one conditional UPDATE",
        "tokens/s",
        runs,
        target="none (an RS256 signature each)",
        verdict=None,
        notes=["every run: each refresh token answered 200 and rotated, none revoked"],
    )


def exchange_sides(
    bench: Bench,
    items: Sequence[Item],
    per_server: int,
    request: Callable[[Item, bool], HttpRequest],
    check: Callable[[list[Item], WrkRun], Awaitable[list[str]]],
) -> dict[str, Side]:
    """An exchange scenario's servers: the platform and the bare app each accept their own
    `per_server` of `items`, each once (`request(item, on_the_platform)`; `check` verifies a
    batch against the database), and the minimal app runs its write."""
    pools = {"platform": iter(items[:per_server]), "bare": iter(items[per_server:])}

    def side(server: Server, key: str) -> Side:
        async def batch(n: int) -> Batch:
            mine = list(islice(pools[key], n))

            async def checked(run: WrkRun) -> list[str]:
                return await check(mine, run)

            requests = [request(item, server is bench.platform) for item in mine]
            return Batch(requests, READ_OK, checked)

        return Side(server, batch)

    return {
        "platform": side(bench.platform, "platform"),
        "bare": side(bench.bare, "bare"),
        "minimal": minimal_side(bench, write=True),
    }


async def scenario_transfer(bench: Bench, world: World, accepts: int) -> Result:
    """Gifts made through the platform's API, accepted each once."""
    per_round = accepts // ROUNDS
    per_server = EXCHANGE_WARMUP + ROUNDS * per_round
    senders = world.customers(SEED_CUSTOMERS)
    progress(f"transfer accept: seeding {2 * per_server} coupons through the claim endpoint")
    coupons = await seed_coupons(
        bench.platform, world, 2 * per_server, customers=senders, campaigns=EXCHANGE_CAMPAIGNS
    )
    progress(f"transfer accept: {2 * per_server} gifts through POST .../transfers")
    gifts = await give_coupons(bench.platform, coupons, world.customers(SEED_CUSTOMERS))

    def accept(g: Gift, platform: bool) -> HttpRequest:
        body = {"claim_token": g.claim_token}
        if platform:
            path, headers = f"/api/v1/transfers/{g.transfer_id}/accept", bearer(g.recipient.token)
        else:
            path, headers = f"/transfers/{g.transfer_id}/accept", {"X-User-Id": str(g.recipient.id)}
        return HttpRequest.json("POST", path, body, headers)

    async def check(mine: list[Gift], run: WrkRun) -> list[str]:
        row = await bench.db.fetchrow(
            "SELECT count(*) FILTER (WHERE transfer.status = 'accepted' "
            "  AND transfer.recipient_user_id = gift.recipient"
            "  AND transfer.closed_at IS NOT NULL),"
            " count(*) FILTER (WHERE coupon.owner_user_id = gift.recipient "
            "  AND coupon.code <> gift.old_code AND coupon.status = 'active')"
            " FROM unnest($1::uuid[], $2::uuid[], $3::text[])"
            "  AS gift(transfer_id, recipient, old_code)"
            " JOIN coupons.transfers transfer ON transfer.id = gift.transfer_id"
            " JOIN coupons.coupons coupon ON coupon.id = transfer.coupon_id",
            [uuid.UUID(g.transfer_id) for g in mine],
            [g.recipient.id for g in mine],
            [g.coupon.code for g in mine],
        )
        assert row is not None
        if run.outcomes["200"] == row[0] == row[1] == len(mine):
            return []
        return [
            f"transfer accept: {run.outcomes['200']} x 200 of {len(mine)}; DB accepted "
            f"{row[0]}, coupons the recipient's under a new code {row[1]}"
        ]

    runs = await bench.measure(
        "transfer accept",
        exchange_sides(bench, gifts, per_server, accept, check),
        mode="once",
        fixed=per_round,
    )
    return result_of(
        7,
        f"Transfer accept: POST /api/v1/transfers/{{id}}/accept with the claim token, "
        f"{per_round} distinct gifts a round; minimal: one conditional UPDATE",
        "accepts/s",
        runs,
        target=f">= {TRANSFER_TARGET:.2f}x bare, exact",
        verdict=ratio_verdict(TRANSFER_TARGET),
        notes=[
            "every run: each transfer accepted by its recipient, the coupon theirs under a new code"
        ],
    )


async def scenario_swap(bench: Bench, world: World, accepts: int) -> Result:
    """Listings made through the platform's API, each accepted once by a customer offering
    a coupon of their own."""
    per_round = accepts // ROUNDS
    per_server = EXCHANGE_WARMUP + ROUNDS * per_round
    listers = world.customers(SEED_CUSTOMERS)
    takers = world.customers(SEED_CUSTOMERS)
    progress(f"listing accept: seeding {4 * per_server} coupons through the claim endpoint")
    coupons = await seed_coupons(
        bench.platform,
        world,
        4 * per_server,
        # Listers' and takers' coupons alternate: [0::2] are the listers', [1::2] the takers'.
        customers=[c for pair in zip(listers, takers, strict=True) for c in pair],
        campaigns=EXCHANGE_CAMPAIGNS,
    )
    progress(f"listing accept: {2 * per_server} listings through POST /api/v1/exchange/listings")
    offers = await list_coupons(bench.platform, coupons[0::2], coupons[1::2])

    def accept(o: Offer, platform: bool) -> HttpRequest:
        body = {"offered_coupon_code": o.offered.code}
        if platform:
            path = f"/api/v1/exchange/listings/{o.listing_id}/accept"
            headers = bearer(o.offered.owner_token)
        else:
            path, headers = f"/listings/{o.listing_id}/accept", {"X-User-Id": o.offered.owner_id}
        return HttpRequest.json("POST", path, body, headers)

    async def check(mine: list[Offer], run: WrkRun) -> list[str]:
        row = await bench.db.fetchrow(
            "SELECT count(*) FILTER (WHERE listing.status = 'accepted'"
            "  AND listing.accepted_by_user_id = swap.taker"
            "  AND listing.offered_coupon_id = swap.offered_id),"
            " count(*) FILTER (WHERE listed.owner_user_id = swap.taker"
            "  AND listed.code <> swap.listed_code AND listed.status = 'active'),"
            " count(*) FILTER (WHERE offered.owner_user_id = swap.lister"
            "  AND offered.code <> swap.offered_code AND offered.status = 'active')"
            " FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[],"
            "  $6::text[])"
            "  AS swap(listing_id, lister, taker, offered_id, listed_code, offered_code)"
            " JOIN coupons.listings listing ON listing.id = swap.listing_id"
            " JOIN coupons.coupons listed ON listed.id = listing.coupon_id"
            " JOIN coupons.coupons offered ON offered.id = swap.offered_id",
            [uuid.UUID(o.listing_id) for o in mine],
            [uuid.UUID(o.listed.owner_id) for o in mine],
            [uuid.UUID(o.offered.owner_id) for o in mine],
            [uuid.UUID(o.offered.id) for o in mine],
            [o.listed.code for o in mine],
            [o.offered.code for o in mine],
        )
        assert row is not None
        if run.outcomes["200"] == row[0] == row[1] == row[2] == len(mine):
            return []
        return [
            f"listing accept: {run.outcomes['200']} x 200 of {len(mine)}; DB accepted "
            f"{row[0]}, listed coupons the taker's {row[1]}, offered the lister's "
            f"{row[2]}"
        ]

    runs = await bench.measure(
        "listing accept",
        exchange_sides(bench, offers, per_server, accept, check),
        mode="once",
        fixed=per_round,
    )
    return result_of(
        8,
        f"Listing accept (swap): POST /api/v1/exchange/listings/{{id}}/accept offering a "
        f"coupon, {per_round} distinct listings a round; minimal: one conditional UPDATE",
        "swaps/s",
        runs,
        target=f">= {SWAP_TARGET:.2f}x bare, exact",
        verdict=ratio_verdict(SWAP_TARGET),
        notes=["every run: both coupons of each swap changed hands under new codes"],
    )


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
                issued, rows = await issued_counts(bench.db, campaign_id)
                claimed = run.outcomes["201"]
                if claimed == issued == rows == FLASH_QUANTITY:
                    return []
                return [f"flash: {claimed} x 201; DB issued_count {issued}, rows {rows}"]

            return Batch(requests, accept, check)

        return Side(server, batch)

    runs = await bench.measure(
        "flash crowd",
        {"platform": side(bench.platform), "bare": side(bench.bare)},
        mode="cycle",
        connections=FLASH_CONNECTIONS,
    )
    notes.append(
        f"every run: exactly {FLASH_QUANTITY} x 201 = issued_count = coupon rows; the rest "
        "409 sold_out or limit_reached"
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
            f"{raw_s[-1] * 1000:.0f} ms; DB issued_count {issued}, code rows {rows}"
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


# --- output --------------------------------------------------------------------------------


def verdict_text(result: Result) -> str:
    if result.saturated:
        return "NO RATIO (wrk saturated its core)"
    if result.met is None:
        return "-"
    return "PASS" if result.met else "MISS"


def print_result(result: Result) -> None:
    columns = list(result.figures)
    print()
    print(f"{result.number}. {result.title}")
    print(f"  {'':<28}" + "".join(f"{c:>10}" for c in columns))
    rows: list[tuple[str, Callable[[Figures], str]]] = [
        (result.unit, lambda f: f"{f.rate:.0f}"),
        ("p50 latency (ms)", lambda f: f"{f.p50:.1f}"),
        ("p99 latency (ms)", lambda f: f"{f.p99:.1f}"),
        ("server CPU/request (ms)", lambda f: f"{f.server_ms:.3f}"),
        ("wrk CPU/request (ms)", lambda f: f"{f.client_ms:.3f}"),
        ("wrk's share of its core", lambda f: f"{f.client_share:.0%}"),
        ("requests answered", lambda f: f"{f.requests}"),
    ]
    for label, show in rows:
        print(f"  {label:<28}" + "".join(f"{show(result.figures[c]):>10}" for c in columns))
    ratios = ", ".join(f"platform/{key} {ratio:.2f}x" for key, ratio in result.ratios.items())
    print(f"  {ratios}; target {result.target}: {verdict_text(result)}")
    for note in result.notes:
        print(f"    {note}")
    print(f"    other processes on the machine used {result.foreign:.0%} of its CPU while timed")
    if result.breakdown:
        print("  where the CPU per request went (py-spy during the rounds):")
        for line in result.breakdown:
            print(f"    {line}")


def print_codes(number: int, codes: CodesResult, count: int, rounds: int) -> None:
    print()
    print(
        f"{number}. Bulk codes: POST /api/v1/campaigns/{{id}}/codes {{count: {count}}} against "
        f"a raw asyncpg COPY of {count} rows (BEGIN, COPY, COMMIT); median of {rounds} rounds"
    )
    verdict = "PASS" if codes.met else "MISS"
    print(
        f"  platform {codes.platform_ms:.0f} ms, raw COPY {codes.copy_ms:.0f} ms: "
        f"{codes.ratio:.2f}x; target <= {CODES_TARGET:.2f}x: {verdict}"
    )
    for note in codes.notes:
        print(f"    {note}")
    print(
        f"    building the {count} rows in Python before the raw COPY (not timed above): "
        f"{codes.build_ms:.0f} ms"
    )
    print(f"    other processes on the machine used {codes.foreign:.0%} of its CPU while timed")


def print_summary(results: Sequence[Result], codes: CodesResult | None) -> None:
    print()
    print("Summary (median rounds; ratios are platform / baseline)")
    head = (
        f"  {'scenario':<16}{'platform':>9}{'bare':>9}{'minimal':>9}{'vs bare':>9}"
        f"{'vs min':>8}{'p50/p99 ms':>14}{'CPU ms':>8}{'wrk':>6}{'others':>8}  result"
    )
    print(head)
    for r in results:
        p = r.figures["platform"]
        bare = r.figures.get("bare")
        minimal = r.figures.get("minimal")
        name = r.title.split(":", 1)[0].split(" (", 1)[0]
        vs_bare = f"{r.ratios['bare']:.2f}x" if "bare" in r.ratios else "-"
        vs_minimal = f"{r.ratios['minimal']:.2f}x" if "minimal" in r.ratios else "-"
        # The load generator's busiest share of its core, on any server of the scenario.
        client = max(f.client_share for f in r.figures.values())
        print(
            f"  {name:<16}{p.rate:>9.0f}"
            f"{(f'{bare.rate:.0f}' if bare else '-'):>9}"
            f"{(f'{minimal.rate:.0f}' if minimal else '-'):>9}"
            f"{vs_bare:>9}{vs_minimal:>8}"
            f"{f'{p.p50:.1f}/{p.p99:.1f}':>14}{p.server_ms:>8.3f}{client:>6.0%}{r.foreign:>8.0%}"
            f"  {verdict_text(r)}"
        )
    if codes is not None:
        print(
            f"  {'Bulk codes':<16}{codes.platform_ms:>7.0f}ms{'':>9}{'':>9}"
            f"{codes.ratio:>8.2f}x (vs raw COPY {codes.copy_ms:.0f} ms){'':>14}"
            f"  {'PASS' if codes.met else 'MISS'}"
        )
    verdicts = [r.met for r in results if r.met is not None]
    if codes is not None:
        verdicts.append(codes.met)
    print(f"targets met: {sum(verdicts)} of {len(verdicts)}")


# --- the run -------------------------------------------------------------------------------

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
        embedded = EmbeddedPostgres(PGDATA_DIR)
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
        servers.append(_start_baseline(state, "bare", "bare_app", database.url))
        servers.append(_start_baseline(state, "minimal", "minimal_app", database.url))
        platform, bare, minimal = servers
        progress(
            f"starting platform on :{platform.port}, bare app on :{bare.port}, "
            f"minimal app on :{minimal.port}"
        )
        await asyncio.gather(*(wait_ready(server) for server in servers))
        db = await asyncpg.connect(database.url)
        try:
            version = await db.fetchval("SHOW server_version")
            print(
                f"coupons bench: {os.cpu_count()} CPUs shared by wrk, three servers and "
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
                "bare: uvicorn bench/bare_app.py; minimal: uvicorn bench/minimal_app.py; each "
                f"one worker, no access log. Load: {wrk} -t1 -c{CONNECTIONS} (flash crowd "
                f"-c{FLASH_CONNECTIONS}), {ROUNDS} rounds of {args.seconds:g} s per server, "
                "alternating; medians"
            )
            bench = Bench(db, database.name, platform, bare, minimal, args.seconds, state)
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
