"""svc-coupons' hot paths: the platform against a bare FastAPI + asyncpg app running its SQL.

Six scenarios, each measured on the platform (`python -m devstack run`: every service
behind the local gateway) and on `bench/bare_app.py` (FastAPI + asyncpg, no auth, no
layers, no event delivery, no merchant checks: only the statements the platform's
repositories run, imported from them), printed side by side with the ratio and its target:

1. lookup by code, GET /api/v1/coupons/{code} with the coupon owner's token: requests/s
   and p50/p99 latency; target platform >= 0.6x bare requests/s. Three rounds per server,
   alternating (who goes first alternates too), the median round's rate counts: the
   machine's speed drifts over a minute, and a whole scenario run on one server and then
   on the other would charge the drift to one of them.
2. flash claim: 200 distinct customers at once on a campaign of total_quantity 50 and
   per_customer_limit 1: successful claims / wall time of the burst, and the exact issued
   count (answers, the database's issued_count and coupon rows); target >= 0.5x. Median of
   7 bursts per server (a burst lasts a fraction of a second, so a single one is at the
   mercy of whatever else the machine does), alternating, a fresh campaign each.
3. redeem: 1,200 distinct active coupons redeemed by the merchant's owner at an outlet,
   32 at a time, in three alternating rounds as lookups are: redemptions/s of the median
   round; target >= 0.5x.
4. transfer accept: 600 distinct gifts (POST /api/v1/coupons/{code}/transfers by their
   owners, before timing) accepted by other customers, POST /api/v1/transfers/{id}/accept
   with the claim token, 32 at a time in three alternating rounds as redemptions are:
   accepts/s of the median round, every coupon verified its recipient's under a new code
   and every transfer accepted; target >= 0.5x.
5. listing accept, the swap: 600 distinct listings (POST /api/v1/exchange/listings by their
   owners, wanting anything, before timing), each accepted by another customer offering an
   active coupon of their own, POST /api/v1/exchange/listings/{id}/accept, in rounds as
   above: swaps/s of the median round, both coupons of every swap verified to have changed
   hands under new codes and every listing accepted; target >= 0.5x.
6. bulk codes: POST /api/v1/campaigns/{id}/codes {count: 100000} against a raw asyncpg
   COPY of 100,000 equivalent rows into the same table; target platform <= 2x the COPY.

    make bench            # or: .venv/bin/python bench/coupons_bench.py [--help]

Set-up. PostgreSQL is DATABASE_URL's server when set, else an embedded one in
.local/bench-pgdata (never the developer's .local/pgdata); either way the run gets a fresh
database, migrated by devstack.stack.migrate and dropped at the end, so that figures do
not drift with the leftovers of earlier runs. Both servers run on free loopback ports with
the same uvicorn settings (one worker, no access log, default loop and HTTP parser). The
platform keeps its state (signing key, logs) in .local/bench-state; tokens are signed here
with that key. The merchant, its outlet, the campaigns and every coupon are made through
the platform's API, and so is every gift and listing that scenarios 4 and 5 accept: both
servers accept ones the platform made, on the database they share. Those two scenarios'
coupons are claimed from 32 campaigns in turn rather than one, so that their set-up does
not queue on one campaign's row (a claim holds it until its commit; no accept locks a
campaign). Their customers, 16 per role (senders and recipients, listers and takers), each
have one token, as the lookups' coupon owners do. DYNAMODB_ENDPOINT_URL, when set, is
passed on to the platform; else it runs its moto server in its own process, as `make run`
does.

Two cores. The load generator (this process), the server under test and PostgreSQL share
the machine's two cores. httpx costs the client about 1 ms of CPU per request, more than
the bare app's whole request, so the bare figures are partly client-bound and the ratios
flatter the platform; "server CPU/request" (from /proc) is the client-independent figure.
The platform delivers its events to the audit trail in the background, after answering:
each scenario starts once every earlier event is delivered, and the tables of the rounds
of writes (redeem, transfer and listing accept) say how soon after a round's last answer
its events were. The moto server the platform's cache and audit trail talk to runs in a
process of its own, as a deployment's DynamoDB is not on the server: its CPU counts among
the other processes'. Other work on the machine takes its share too: each table says how
much CPU other processes used while it was timed. Absolute figures are far below a
deployment's; read the ratios, and expect several percent of noise between runs.

Exit status: 0 when every scenario ran, whether or not it met its target (this is a
measurement, not a test); 1 on any unexpected answer, wrong count or failed set-up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import signal
import ssl
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import cycle, islice
from pathlib import Path
from platform import python_version
from typing import Any, TypeVar

import asyncpg
import httpx
from bare_app import BARE_ACTOR
from sqlalchemy import make_url

from core.config import PlatformSettings
from devstack.api import AuthApi
from devstack.embedded import EmbeddedPostgres, free_port
from devstack.services import REPO_ROOT
from devstack.stack import migrate
from devstack.tokens import TestTokens
from svc_auth.utils.signing import LOCAL_PRIVATE_KEY_FILE, KeyRing, SigningKey
from svc_coupons.repositories.coupons import COPY_COLUMNS
from svc_coupons.utils.codes import new_codes

BENCH_DIR = Path(__file__).resolve().parent
STATE_DIR = REPO_ROOT / ".local" / "bench-state"
PGDATA_DIR = REPO_ROOT / ".local" / "bench-pgdata"
LOOPBACK = "127.0.0.1"

LOOKUP_TARGET = 0.6  # platform requests/s >= 0.6x bare
CLAIM_TARGET = 0.5  # platform claims/s >= 0.5x bare
REDEEM_TARGET = 0.5  # platform redemptions/s >= 0.5x bare
TRANSFER_TARGET = 0.5  # platform transfer accepts/s >= 0.5x bare
SWAP_TARGET = 0.5  # platform listing accepts/s >= 0.5x bare
CODES_TARGET = 2.0  # platform time <= 2x the raw COPY

FLASH_CUSTOMERS = 200
FLASH_QUANTITY = 50
CONCURRENCY = 32
SEED_CUSTOMERS = 16
REDEEM_WARMUP = 32
EXCHANGE_WARMUP = 32  # transfer and listing accepts per server before the rounds
EXCHANGE_CAMPAIGNS = 32  # campaigns the exchange's coupons are claimed from, in turn
ROUNDS = 3  # lookup, redeem and accepts: rounds per server, alternating; the median counts
ORDER_AMOUNT = 2000

START_TIMEOUT = 90.0  # seconds for a server to answer its health check
DELIVERY_TIMEOUT = 60.0  # seconds for the platform's outboxes to be delivered
OUTBOX_SCHEMAS = ("auth", "merchants", "coupons")
REQUEST_TIMEOUT = 30.0
CODES_TIMEOUT = 120.0
# A load slower than 10 calls/s (plus a margin) is a hung server, not a slow one.
LOAD_TIME_BASE = 30.0
LOAD_TIME_PER_CALL = 0.1
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


Item = TypeVar("Item")


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


def _spawn(name: str, args: list[str], env: dict[str, str], port: int, health: str) -> Server:
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    log_path = STATE_DIR / f"{name}.log"
    with log_path.open("wb") as log:
        # The child keeps its own copy of the file descriptor.
        process = subprocess.Popen(  # noqa: S603
            args, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    OWN_PIDS.add(process.pid)
    return Server(name, port, health, process, log_path)


def _inherited_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}


def start_platform(database_url: str) -> Server:
    port = free_port()
    env = _inherited_env() | {
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "LOCAL_STATE_DIR": str(STATE_DIR),
        "JWT_ISSUER": f"http://{LOOPBACK}:{port}",
        "COUPONS_MERCHANTS_API_URL": f"http://{LOOPBACK}:{port}",
    }
    args = [sys.executable, "-m", "devstack", "run"]
    return _spawn("platform", args, env, port, "/api/v1/coupons/health")


def start_bare(database_url: str) -> Server:
    port = free_port()
    # The platform's pool per service: pool_size connections plus max_overflow.
    settings = PlatformSettings()
    env = _inherited_env() | {
        "BENCH_DATABASE_URL": database_url,
        "BENCH_POOL_MIN": str(settings.database_pool_size),
        "BENCH_POOL_MAX": str(settings.database_pool_size + settings.database_max_overflow),
    }
    # devstack runs uvicorn with log_config=None and access_log=False, loop and http at
    # their defaults; the same here, and one worker.
    args = [
        *(sys.executable, "-m", "uvicorn", "bare_app:app", "--app-dir", str(BENCH_DIR)),
        *("--host", LOOPBACK, "--port", str(port), "--workers", "1"),
        *("--no-access-log", "--log-level", "warning"),
    ]
    return _spawn("bare", args, env, port, "/health")


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


# --- load ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None


@dataclass
class Load:
    latencies: list[float]  # seconds, one per call
    wall: float  # seconds from the first call sent to the last answer
    outcomes: Counter[str]
    bodies: list[Any]
    server_cpu: float  # seconds of the server process's CPU during the load
    foreign_cpu: float  # seconds of CPU other processes on the machine used meanwhile

    @property
    def cpu_ms_per_call(self) -> float:
        return self.server_cpu / len(self.latencies) * 1000

    def percentile_ms(self, q: float) -> float:
        ordered = sorted(self.latencies)
        rank = max(math.ceil(q / 100 * len(ordered)), 1)  # nearest rank
        return ordered[rank - 1] * 1000

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.wall


def _outcome(
    server: Server, call: Call, response: httpx.Response, accept: Mapping[int, Any]
) -> str:
    """The answer's label: its status, or its problem code where one is expected. Anything
    not in `accept` voids the run: errors counted as throughput would flatter the server."""
    if response.status_code not in accept:
        raise BenchError(
            f"{server.name}: {call.method} {call.path} answered {response.status_code}: "
            f"{response.text[:500]}"
        )
    code = accept[response.status_code]
    if code is None:
        return str(response.status_code)
    answered = response.json().get("code")
    if answered != code:
        raise BenchError(f"{server.name}: {call.method} {call.path}: {answered!r}, not {code!r}")
    return str(code)


# Plain HTTP on loopback: never used, but each client would otherwise load the CA bundle
# into a context of its own, 25 ms apiece, 5 s for a flash claim's 200 clients.
TLS_CONTEXT = ssl.create_default_context()
TICKS = os.sysconf("SC_CLK_TCK")
OWN_PIDS: set[int] = {os.getpid()}  # this process and the servers it started


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far, its threads included (the platform's
    event delivery, for one). Linux /proc; 0 for a process that is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
    return pids


@dataclass(frozen=True)
class MachineCpu:
    """CPU seconds used so far: by the whole machine, and by this benchmark's processes
    (itself, its servers, any local PostgreSQL). The difference is other work, which takes
    its share of the two cores from the figures."""

    busy: float
    own: float

    @classmethod
    def now(cls) -> MachineCpu:
        # The first line of /proc/stat: user nice system idle iowait irq softirq steal ...
        ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        busy = (sum(ticks[:8]) - ticks[3] - ticks[4]) / TICKS
        own = sum(process_cpu_seconds(pid) for pid in OWN_PIDS | set(_postgres_pids()))
        return cls(busy, own)

    def foreign_since(self, earlier: MachineCpu) -> float:
        return max((self.busy - earlier.busy) - (self.own - earlier.own), 0.0)


async def drive(
    server: Server,
    calls: Sequence[Call],
    *,
    concurrency: int,
    accept: Mapping[int, str | None],
    keep_bodies: bool = False,
) -> Load:
    """Send `calls`, `concurrency` at a time, each once, over as many kept-alive connections,
    opened beforehand so that no figure includes a TCP handshake.

    The pool is one httpx client of one connection per worker: httpcore's shared pool
    scans every connection on each request, which at 32 connections tripled the client's
    CPU per request, CPU the servers then lack on a two-core machine. Requests are built
    before the clock starts for the same reason.
    """
    assert server.base_url.startswith(f"http://{LOOPBACK}:")
    time_limit = LOAD_TIME_BASE + LOAD_TIME_PER_CALL * len(calls)
    width = min(concurrency, len(calls))
    latencies = [0.0] * len(calls)
    outcomes: list[str] = [""] * len(calls)
    bodies: list[Any] = [None] * len(calls)
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=server.base_url,
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                    timeout=REQUEST_TIMEOUT,
                    verify=TLS_CONTEXT,
                )
            )
            for _ in range(width)
        ]
        try:
            opened = await asyncio.gather(*(c.get(server.health_path) for c in clients))
        except httpx.HTTPError as exc:
            raise BenchError(f"{server.name}: {exc!r}\n{server.log_tail()}") from exc
        if any(r.status_code != 200 for r in opened):
            raise BenchError(f"{server.name}: health check failed while opening connections")
        requests = [
            clients[0].build_request(call.method, call.path, headers=call.headers, json=call.json)
            for call in calls
        ]
        queue = iter(enumerate(calls))  # shared: every call is taken by exactly one worker

        async def worker(client: httpx.AsyncClient) -> None:
            for index, call in queue:
                sent = time.perf_counter()
                response = await client.send(requests[index])
                latencies[index] = time.perf_counter() - sent
                outcomes[index] = _outcome(server, call, response, accept)
                if keep_bodies:
                    bodies[index] = response.json()

        cpu_before = process_cpu_seconds(server.process.pid)
        machine_before = MachineCpu.now()
        started = time.perf_counter()
        try:
            async with asyncio.timeout(time_limit), asyncio.TaskGroup() as group:
                for client in clients:
                    group.create_task(worker(client))
        except TimeoutError:
            raise BenchError(
                f"{server.name}: {len(calls)} calls took over {time_limit} s"
            ) from None
        except ExceptionGroup as failed:
            first = failed.exceptions[0]  # one worker failed; the group cancelled the others
            if isinstance(first, BenchError):
                raise first from None
            raise BenchError(f"{server.name}: {first!r}") from first
        wall = time.perf_counter() - started
        cpu = process_cpu_seconds(server.process.pid) - cpu_before
        foreign = MachineCpu.now().foreign_since(machine_before)
    return Load(latencies, wall, Counter(outcomes), bodies, cpu, foreign)


# --- the platform's world, made through its API -------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


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

    def customer_token(self, subject: uuid.UUID | None = None) -> str:
        return self.tokens.token(subject=subject or uuid.uuid4())

    def customers(self, count: int) -> list[Customer]:
        """New customers: a token each, no account (none is needed to be one)."""
        ids = [uuid.uuid4() for _ in range(count)]
        return [Customer(subject, self.customer_token(subject)) for subject in ids]


def load_tokens(platform: Server) -> TestTokens:
    """Tokens signed with the key the platform wrote at start, as svc-auth would sign them."""
    pem = (STATE_DIR / "keys" / LOCAL_PRIVATE_KEY_FILE).read_text()
    return TestTokens(KeyRing(SigningKey.from_pem(pem)), issuer=platform.base_url)


async def build_world(platform: Server, http: httpx.AsyncClient) -> World:
    tokens = load_tokens(platform)
    world = World(tokens, "", "", "", http)
    # The owner registers and applies (the token's subject is the applicant), an admin
    # verifies; the owner membership svc-auth then grants is in the owner's next token.
    # Customers need no account: their tokens alone make them customers to svc-coupons.
    owner = await AuthApi(http).register(f"owner-{uuid.uuid4().hex[:8]}@bench.example.com")
    applicant = uuid.UUID(owner["id"])
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
    customers: Sequence[Customer] = (),
    campaigns: int = 1,
) -> list[Coupon]:
    """Active coupons made by the platform's own claim endpoint, for `customers` in turn
    (SEED_CUSTOMERS new ones if none), from `campaigns` new campaigns in turn."""
    campaign_ids = [
        await world.campaign(
            "Bench seed", total_quantity=None, per_customer_limit=10_000, publish=True
        )
        for _ in range(campaigns)
    ]
    owners = list(islice(cycle(customers or world.customers(SEED_CUSTOMERS)), count))
    paths = list(islice(cycle(f"/api/v1/campaigns/{c}/claim" for c in campaign_ids), count))
    load = await drive(
        platform,
        [Call("POST", path, bearer(o.token)) for path, o in zip(paths, owners, strict=True)],
        concurrency=CONCURRENCY,
        accept={201: None},
        keep_bodies=True,
    )
    coupons = [
        Coupon(body["id"], body["code"], owner.token, body["owner_user_id"])
        for owner, body in zip(owners, load.bodies, strict=True)
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
    load = await drive(
        platform,
        [
            Call("POST", f"/api/v1/coupons/{c.code}/transfers", bearer(c.owner_token))
            for c in coupons
        ],
        concurrency=CONCURRENCY,
        accept={201: None},
        keep_bodies=True,
    )
    gifts = [
        Gift(coupon, body["transfer_id"], body["claim_token"], recipient)
        for coupon, body, recipient in zip(
            coupons, load.bodies, islice(cycle(recipients), len(coupons)), strict=True
        )
    ]
    if any(b["coupon"]["id"] != g.coupon.id for g, b in zip(gifts, load.bodies, strict=True)):
        raise BenchError("set-up: a transfer holds another coupon than the one given")
    return gifts


@dataclass(frozen=True)
class Offer:
    """An open listing made through the platform's API, and the coupon to be offered for it
    by its owner, the taker."""

    listing_id: str
    listed: Coupon
    offered: Coupon


async def list_coupons(
    platform: Server, listed: Sequence[Coupon], offered: Sequence[Coupon]
) -> list[Offer]:
    """Each of `listed` put on the exchange by its owner, wanting anything; each paired with
    the coupon of `offered` at its place."""
    load = await drive(
        platform,
        [
            Call(
                "POST",
                "/api/v1/exchange/listings",
                bearer(c.owner_token),
                {"coupon_code": c.code, "wants": {}},
            )
            for c in listed
        ],
        concurrency=CONCURRENCY,
        accept={201: None},
        keep_bodies=True,
    )
    offers = [
        Offer(body["id"], coupon, offer)
        for body, coupon, offer in zip(load.bodies, listed, offered, strict=True)
    ]
    if any(b["coupon"]["id"] != o.listed.id for o, b in zip(offers, load.bodies, strict=True)):
        raise BenchError("set-up: a listing holds another coupon than the one listed")
    return offers


# --- scenarios -----------------------------------------------------------------------------


@dataclass
class Line:
    label: str
    platform: float
    bare: float
    unit: str = ""


@dataclass
class Result:
    title: str
    lines: list[Line]
    ratio: float  # platform / bare of the headline figure
    target: str
    met: bool
    notes: list[str] = field(default_factory=list)
    baseline: str = "bare"
    foreign: float = 0.0  # share of the machine's CPU other processes used while timed


async def undelivered_events(db: asyncpg.Connection) -> list[str]:
    """Each undelivered event: its service, type, attempts and last error."""
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
    """Wait until the platform has delivered every event it committed (it delivers them in
    the background), so that one scenario's deliveries do not run into the next one's
    timing; the seconds waited. BenchError when they do not get delivered."""
    started = time.monotonic()
    while left := await undelivered_events(db):
        if time.monotonic() - started > DELIVERY_TIMEOUT:
            raise BenchError(
                f"{len(left)} events undelivered after {DELIVERY_TIMEOUT:.0f} s, the first: "
                + "; ".join(left[:3])
            )
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def scenario_lookup(
    platform: Server, bare: Server, coupons: Sequence[Coupon], requests: int, warmup: int
) -> Result:
    def platform_calls(n: int) -> list[Call]:
        return [
            Call("GET", f"/api/v1/coupons/{c.code}", bearer(c.owner_token))
            for c in islice(cycle(coupons), n)
        ]

    def bare_calls(n: int) -> list[Call]:
        return [Call("GET", f"/coupons/{c.code}") for c in islice(cycle(coupons), n)]

    calls_for = {platform.name: platform_calls, bare.name: bare_calls}
    for server in (platform, bare):
        progress(f"lookup: {warmup} warm-up requests on {server.name}")
        await drive(
            server, calls_for[server.name](warmup), concurrency=CONCURRENCY, accept={200: None}
        )
    loads: dict[str, list[Load]] = {platform.name: [], bare.name: []}
    per_round = requests // ROUNDS
    for round_ in range(1, ROUNDS + 1):
        for server in turns(round_, platform, bare):
            progress(f"lookup round {round_}: {per_round} requests on {server.name}")
            loads[server.name].append(
                await drive(
                    server,
                    calls_for[server.name](per_round),
                    concurrency=CONCURRENCY,
                    accept={200: None},
                )
            )
    return median_round_result(
        f"1. Lookup by code: GET /api/v1/coupons/{{code}}, owner's token; {ROUNDS} rounds of "
        f"{per_round} requests per server, alternating, at concurrency {CONCURRENCY} after "
        f"{warmup} warm-up; median round",
        "requests/s",
        loads[platform.name],
        loads[bare.name],
        LOOKUP_TARGET,
    )


def median_round_result(
    title: str,
    rate: str,
    platform: Sequence[Load],
    bare: Sequence[Load],
    target: float,
    notes: Sequence[str] = (),
) -> Result:
    """A throughput scenario run in rounds: the median round's rate for each server, their
    ratio against `target`, and latency and CPU over all rounds."""
    p_rate = median_of(platform, lambda load: load.per_second)
    b_rate = median_of(bare, lambda load: load.per_second)
    p, b = combined(platform), combined(bare)
    ratio = p_rate / b_rate
    return Result(
        title,
        [
            Line(rate, p_rate, b_rate),
            Line("p50 latency", p.percentile_ms(50), b.percentile_ms(50), "ms"),
            Line("p99 latency", p.percentile_ms(99), b.percentile_ms(99), "ms"),
            Line("server CPU/request", p.cpu_ms_per_call, b.cpu_ms_per_call, "ms"),
        ],
        ratio,
        f">= {target:.2f}x",
        ratio >= target,
        list(notes),
        foreign=foreign_share([p, b]),
    )


def foreign_share(loads: Sequence[Load]) -> float:
    return sum(load.foreign_cpu for load in loads) / (
        sum(load.wall for load in loads) * (os.cpu_count() or 1)
    )


def median_of(loads: Sequence[Load], figure: Callable[[Load], float]) -> float:
    return statistics.median(figure(load) for load in loads)


def combined(loads: Sequence[Load]) -> Load:
    """Several loads of one server as one: every latency, the wall times and CPU summed."""
    outcomes: Counter[str] = Counter()
    for load in loads:
        outcomes.update(load.outcomes)
    return Load(
        latencies=[latency for load in loads for latency in load.latencies],
        wall=sum(load.wall for load in loads),
        outcomes=outcomes,
        bodies=[body for load in loads for body in load.bodies],
        server_cpu=sum(load.server_cpu for load in loads),
        foreign_cpu=sum(load.foreign_cpu for load in loads),
    )


def turns(round_: int, *servers: Server) -> tuple[Server, ...]:
    """The servers in the order they take round `round_`: who goes first alternates, so
    that drift in the machine's speed hits both alike."""
    return servers if round_ % 2 else tuple(reversed(servers))


async def issued_counts(db: asyncpg.Connection, campaign_id: str) -> tuple[int, int]:
    row = await db.fetchrow(
        "SELECT issued_count, (SELECT count(*) FROM coupons.coupons WHERE campaign_id = $1) "
        "FROM coupons.campaigns WHERE id = $1",
        uuid.UUID(campaign_id),
    )
    assert row is not None
    return int(row[0]), int(row[1])


async def scenario_flash(
    platform: Server, bare: Server, world: World, db: asyncpg.Connection, rounds: int
) -> tuple[Result, list[str]]:
    """Rounds alternate between the two servers, so drift hits both alike; a fresh
    campaign per round. Returns the result and any wrong count."""
    accept: dict[int, str | None] = {201: None, 409: "sold_out"}
    rates: dict[str, list[float]] = {"platform": [], "bare": []}
    loads: dict[str, list[Load]] = {"platform": [], "bare": []}
    notes: list[str] = []
    wrong: list[str] = []
    for round_ in range(1, rounds + 1):
        for server in (platform, bare):
            campaign_id = await world.campaign(
                f"Flash {server.name} {round_}",
                total_quantity=FLASH_QUANTITY,
                per_customer_limit=1,
                publish=True,
            )
            if server is platform:
                path = f"/api/v1/campaigns/{campaign_id}/claim"
                calls = [
                    Call("POST", path, bearer(world.customer_token()))
                    for _ in range(FLASH_CUSTOMERS)
                ]
            else:  # the bare app takes the customer's id as a header: it has no auth
                path = f"/campaigns/{campaign_id}/claim"
                calls = [
                    Call("POST", path, {"X-User-Id": str(uuid.uuid4())})
                    for _ in range(FLASH_CUSTOMERS)
                ]
            progress(f"flash claim round {round_}: {FLASH_CUSTOMERS} customers on {server.name}")
            load = await drive(server, calls, concurrency=FLASH_CUSTOMERS, accept=accept)
            claimed = load.outcomes["201"]
            issued, rows = await issued_counts(db, campaign_id)
            rates[server.name].append(claimed / load.wall)
            loads[server.name].append(load)
            notes.append(
                f"round {round_} {server.name:>8}: {claimed} x 201, {load.outcomes['sold_out']} x "
                f"409 sold_out; DB issued_count {issued}, coupon rows {rows}"
            )
            if not claimed == issued == rows == FLASH_QUANTITY:
                wrong.append(f"flash claim on {server.name}: {notes[-1]}")
            await events_delivered(db)
    p, b = statistics.median(rates["platform"]), statistics.median(rates["bare"])
    ratio = p / b
    result = Result(
        f"2. Flash claim: {FLASH_CUSTOMERS} distinct customers at once, total_quantity "
        f"{FLASH_QUANTITY}, per_customer_limit 1; median of {rounds} rounds",
        [
            Line("claims/s", p, b),
            *(
                Line(
                    label,
                    median_of(loads["platform"], figure),
                    median_of(loads["bare"], figure),
                    "ms",
                )
                for label, figure in (
                    ("burst wall time", lambda load: load.wall * 1000),
                    ("p50 latency", lambda load: load.percentile_ms(50)),
                    ("p99 latency", lambda load: load.percentile_ms(99)),
                    ("server CPU/request", lambda load: load.cpu_ms_per_call),
                )
            ),
        ],
        ratio,
        f">= {CLAIM_TARGET:.2f}x",
        ratio >= CLAIM_TARGET,
        notes,
        foreign=foreign_share(loads["platform"] + loads["bare"]),
    )
    return result, wrong


async def write_rounds(
    platform: Server,
    bare: Server,
    db: asyncpg.Connection,
    name: str,
    noun: str,
    items: Mapping[str, Sequence[Item]],
    calls_for: Callable[[Server, Sequence[Item]], list[Call]],
    *,
    warmup: int,
    per_round: int,
) -> tuple[dict[str, list[Load]], list[float]]:
    """A write scenario's rounds: `warmup` items of each server's own, then ROUNDS rounds of
    `per_round` distinct items per server, alternating, CONCURRENCY at a time, each item used
    once. The loads per server, and how long the platform's events took to be delivered
    after each of its rounds (waited for before the bare app's turn)."""
    for server in (platform, bare):
        progress(f"{name}: {warmup} warm-up {noun} on {server.name}")
        warm = calls_for(server, items[server.name][:warmup])
        await drive(server, warm, concurrency=CONCURRENCY, accept={200: None})
    await events_delivered(db)
    loads: dict[str, list[Load]] = {platform.name: [], bare.name: []}
    drained: list[float] = []
    for round_ in range(1, ROUNDS + 1):
        for server in turns(round_, platform, bare):
            first = warmup + (round_ - 1) * per_round
            mine = items[server.name][first : first + per_round]
            progress(f"{name} round {round_}: {per_round} {noun} on {server.name}")
            loads[server.name].append(
                await drive(
                    server, calls_for(server, mine), concurrency=CONCURRENCY, accept={200: None}
                )
            )
            if server is platform:
                # Its events go out in the background: before the bare app's turn.
                drained.append(await events_delivered(db))
    return loads, drained


async def scenario_redeem(
    platform: Server,
    bare: Server,
    world: World,
    db: asyncpg.Connection,
    coupons: dict[str, list[Coupon]],
    redeems: int,
) -> tuple[Result, list[str]]:
    body = {"outlet_id": world.outlet_id, "order_amount": ORDER_AMOUNT}

    def calls_for(server: Server, coupons_: Sequence[Coupon]) -> list[Call]:
        if server is platform:
            return [
                Call("POST", f"/api/v1/coupons/{c.code}/redeem", bearer(world.owner_token), body)
                for c in coupons_
            ]
        return [Call("POST", f"/coupons/{c.code}/redeem", {}, body) for c in coupons_]

    per_round = redeems // ROUNDS
    loads, drained = await write_rounds(
        platform,
        bare,
        db,
        "redeem",
        "coupons",
        coupons,
        calls_for,
        warmup=REDEEM_WARMUP,
        per_round=per_round,
    )
    notes = [
        "platform: every coupon.redeemed event in the audit trail at most "
        f"{max(drained) * 1000:.0f} ms after the round's last answer"
    ]
    wrong: list[str] = []
    measured = ROUNDS * per_round
    for server in (platform, bare):
        load = combined(loads[server.name])
        ids = [uuid.UUID(c.id) for c in coupons[server.name][REDEEM_WARMUP:][:measured]]
        row = await db.fetchrow(
            "SELECT (SELECT count(*) FROM coupons.redemptions WHERE coupon_id = ANY($1)), "
            "(SELECT count(*) FROM coupons.coupons WHERE id = ANY($1) AND status = 'redeemed')",
            ids,
        )
        assert row is not None
        notes.append(
            f"{server.name:>8}: {load.outcomes['200']} x 200; DB redemptions {row[0]}, "
            f"coupons redeemed {row[1]}"
        )
        if not load.outcomes["200"] == row[0] == row[1] == measured:
            wrong.append(f"redeem on {server.name}: {notes[-1]}")
    result = median_round_result(
        f"3. Redeem: POST /api/v1/coupons/{{code}}/redeem by the owner at an outlet; {ROUNDS} "
        f"rounds of {per_round} distinct coupons per server, alternating, at concurrency "
        f"{CONCURRENCY} after {REDEEM_WARMUP} warm-up; median round",
        "redemptions/s",
        loads[platform.name],
        loads[bare.name],
        REDEEM_TARGET,
        notes,
    )
    return result, wrong


async def scenario_transfer(
    platform: Server,
    bare: Server,
    world: World,
    db: asyncpg.Connection,
    accepts: int,
) -> tuple[Result, list[str]]:
    """Gifts made through the platform's API, half of them accepted on each server."""
    per_server = EXCHANGE_WARMUP + accepts
    senders = world.customers(SEED_CUSTOMERS)
    progress(f"transfer accept: seeding {2 * per_server} coupons through the claim endpoint")
    coupons = await seed_coupons(
        platform, world, 2 * per_server, customers=senders, campaigns=EXCHANGE_CAMPAIGNS
    )
    progress(f"transfer accept: {2 * per_server} gifts through POST .../transfers")
    gifts = await give_coupons(platform, coupons, world.customers(SEED_CUSTOMERS))
    mine = {platform.name: gifts[:per_server], bare.name: gifts[per_server:]}

    def calls_for(server: Server, gifts_: Sequence[Gift]) -> list[Call]:
        if server is platform:
            return [
                Call(
                    "POST",
                    f"/api/v1/transfers/{g.transfer_id}/accept",
                    bearer(g.recipient.token),
                    {"claim_token": g.claim_token},
                )
                for g in gifts_
            ]
        return [
            Call(
                "POST",
                f"/transfers/{g.transfer_id}/accept",
                {"X-User-Id": str(g.recipient.id)},
                {"claim_token": g.claim_token},
            )
            for g in gifts_
        ]

    per_round = accepts // ROUNDS
    loads, drained = await write_rounds(
        platform,
        bare,
        db,
        "transfer accept",
        "gifts",
        mine,
        calls_for,
        warmup=EXCHANGE_WARMUP,
        per_round=per_round,
    )
    notes = [
        "platform: every transfer.accepted and coupon.transferred event in the audit trail at "
        f"most {max(drained) * 1000:.0f} ms after the round's last answer"
    ]
    wrong: list[str] = []
    measured = ROUNDS * per_round
    for server in (platform, bare):
        load = combined(loads[server.name])
        timed = mine[server.name][EXCHANGE_WARMUP:][:measured]
        row = await db.fetchrow(
            "SELECT count(*) FILTER (WHERE transfer.status = 'accepted' "
            "  AND transfer.recipient_user_id = gift.recipient AND transfer.closed_at IS NOT NULL),"
            " count(*) FILTER (WHERE coupon.owner_user_id = gift.recipient "
            "  AND coupon.code <> gift.old_code AND coupon.status = 'active')"
            " FROM unnest($1::uuid[], $2::uuid[], $3::text[])"
            "  AS gift(transfer_id, recipient, old_code)"
            " JOIN coupons.transfers transfer ON transfer.id = gift.transfer_id"
            " JOIN coupons.coupons coupon ON coupon.id = transfer.coupon_id",
            [uuid.UUID(g.transfer_id) for g in timed],
            [g.recipient.id for g in timed],
            [g.coupon.code for g in timed],
        )
        assert row is not None
        notes.append(
            f"{server.name:>8}: {load.outcomes['200']} x 200; DB transfers accepted by their "
            f"recipients {row[0]}, coupons now the recipient's under a new code {row[1]}"
        )
        if not load.outcomes["200"] == row[0] == row[1] == measured:
            wrong.append(f"transfer accept on {server.name}: {notes[-1]}")
    total = await db.fetchval("SELECT count(*) FROM coupons.transfers WHERE status = 'accepted'")
    expected = 2 * (EXCHANGE_WARMUP + measured)  # both servers' warm-up and rounds
    notes.append(f"coupons.transfers accepted, warm-up included: {total} of {expected}")
    if total != expected:
        wrong.append(f"transfer accept: {notes[-1]}")
    result = median_round_result(
        f"4. Transfer accept: POST /api/v1/transfers/{{id}}/accept with the claim token, by "
        f"another customer; {ROUNDS} rounds of {per_round} distinct gifts per server, "
        f"alternating, at concurrency {CONCURRENCY} after {EXCHANGE_WARMUP} warm-up; median round",
        "accepts/s",
        loads[platform.name],
        loads[bare.name],
        TRANSFER_TARGET,
        notes,
    )
    return result, wrong


async def scenario_swap(
    platform: Server,
    bare: Server,
    world: World,
    db: asyncpg.Connection,
    accepts: int,
) -> tuple[Result, list[str]]:
    """Listings made through the platform's API, half of them accepted on each server, each
    by a customer offering a coupon of their own."""
    per_server = EXCHANGE_WARMUP + accepts
    listers = world.customers(SEED_CUSTOMERS)
    takers = world.customers(SEED_CUSTOMERS)
    progress(f"listing accept: seeding {4 * per_server} coupons through the claim endpoint")
    coupons = await seed_coupons(
        platform,
        world,
        4 * per_server,
        # Listers' and takers' coupons alternate: [0::2] are the listers', [1::2] the takers'.
        customers=[c for pair in zip(listers, takers, strict=True) for c in pair],
        campaigns=EXCHANGE_CAMPAIGNS,
    )
    progress(f"listing accept: {2 * per_server} listings through POST /api/v1/exchange/listings")
    offers = await list_coupons(platform, coupons[0::2], coupons[1::2])
    mine = {platform.name: offers[:per_server], bare.name: offers[per_server:]}

    def calls_for(server: Server, offers_: Sequence[Offer]) -> list[Call]:
        if server is platform:
            return [
                Call(
                    "POST",
                    f"/api/v1/exchange/listings/{o.listing_id}/accept",
                    bearer(o.offered.owner_token),
                    {"offered_coupon_code": o.offered.code},
                )
                for o in offers_
            ]
        return [
            Call(
                "POST",
                f"/listings/{o.listing_id}/accept",
                {"X-User-Id": o.offered.owner_id},
                {"offered_coupon_code": o.offered.code},
            )
            for o in offers_
        ]

    per_round = accepts // ROUNDS
    loads, drained = await write_rounds(
        platform,
        bare,
        db,
        "listing accept",
        "listings",
        mine,
        calls_for,
        warmup=EXCHANGE_WARMUP,
        per_round=per_round,
    )
    notes = [
        "platform: every listing.accepted and coupon.transferred event in the audit trail at "
        f"most {max(drained) * 1000:.0f} ms after the round's last answer"
    ]
    wrong: list[str] = []
    measured = ROUNDS * per_round
    for server in (platform, bare):
        load = combined(loads[server.name])
        timed = mine[server.name][EXCHANGE_WARMUP:][:measured]
        row = await db.fetchrow(
            "SELECT count(*) FILTER (WHERE listing.status = 'accepted'"
            "  AND listing.accepted_by_user_id = swap.taker"
            "  AND listing.offered_coupon_id = swap.offered_id),"
            " count(*) FILTER (WHERE listed.owner_user_id = swap.taker"
            "  AND listed.code <> swap.listed_code AND listed.status = 'active'),"
            " count(*) FILTER (WHERE offered.owner_user_id = swap.lister"
            "  AND offered.code <> swap.offered_code AND offered.status = 'active')"
            " FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[])"
            "  AS swap(listing_id, lister, taker, offered_id, listed_code, offered_code)"
            " JOIN coupons.listings listing ON listing.id = swap.listing_id"
            " JOIN coupons.coupons listed ON listed.id = listing.coupon_id"
            " JOIN coupons.coupons offered ON offered.id = swap.offered_id",
            [uuid.UUID(o.listing_id) for o in timed],
            [uuid.UUID(o.listed.owner_id) for o in timed],
            [uuid.UUID(o.offered.owner_id) for o in timed],
            [uuid.UUID(o.offered.id) for o in timed],
            [o.listed.code for o in timed],
            [o.offered.code for o in timed],
        )
        assert row is not None
        notes.append(
            f"{server.name:>8}: {load.outcomes['200']} x 200; DB listings accepted by their "
            f"takers {row[0]}, listed coupons now the taker's {row[1]} and offered ones the "
            f"lister's {row[2]}, each under a new code"
        )
        if not load.outcomes["200"] == row[0] == row[1] == row[2] == measured:
            wrong.append(f"listing accept on {server.name}: {notes[-1]}")
    total = await db.fetchval("SELECT count(*) FROM coupons.listings WHERE status = 'accepted'")
    expected = 2 * (EXCHANGE_WARMUP + measured)  # both servers' warm-up and rounds
    notes.append(f"coupons.listings accepted, warm-up included: {total} of {expected}")
    if total != expected:
        wrong.append(f"listing accept: {notes[-1]}")
    result = median_round_result(
        f"5. Listing accept (swap): POST /api/v1/exchange/listings/{{id}}/accept by another "
        f"customer offering an active coupon of their own; {ROUNDS} rounds of {per_round} "
        f"distinct listings per server, alternating, at concurrency {CONCURRENCY} after "
        f"{EXCHANGE_WARMUP} warm-up; median round",
        "swaps/s",
        loads[platform.name],
        loads[bare.name],
        SWAP_TARGET,
        notes,
    )
    return result, wrong


async def raw_copy(db: asyncpg.Connection, world: World, count: int) -> tuple[float, float, float]:
    """Seconds to build `count` unassigned-code rows in Python, to COPY them (in a
    transaction, as the platform does) into a campaign of their own, and CPU seconds other
    processes used during the COPY."""
    campaign_id = await world.campaign(
        "Raw codes", total_quantity=None, per_customer_limit=1, publish=False
    )
    started = time.perf_counter()
    now = datetime.now(UTC)
    campaign, merchant = uuid.UUID(campaign_id), uuid.UUID(world.merchant_id)
    records = [(campaign, merchant, code, "unassigned", now) for code in new_codes(count)]
    built = time.perf_counter() - started
    machine = MachineCpu.now()
    started = time.perf_counter()
    async with db.transaction():
        await db.copy_records_to_table(
            "coupons",
            schema_name="coupons",
            columns=COPY_COLUMNS,
            records=records,
        )
    copied = time.perf_counter() - started
    return built, copied, MachineCpu.now().foreign_since(machine)


async def platform_codes(world: World, campaign_id: str, count: int) -> float:
    started = time.perf_counter()
    response = await world.http.post(
        f"/api/v1/campaigns/{campaign_id}/codes",
        json={"count": count},
        headers=bearer(world.owner_token),
        timeout=CODES_TIMEOUT,
    )
    elapsed = time.perf_counter() - started
    if response.status_code != 201 or response.json().get("generated") != count:
        raise BenchError(f"platform: POST codes answered {response.status_code}: {response.text}")
    return elapsed


async def scenario_codes(
    world: World, db: asyncpg.Connection, count: int, rounds: int
) -> tuple[Result, list[str]]:
    """Rounds alternate raw COPY and platform; each round writes into new campaigns."""
    platform_s: list[float] = []
    raw_s: list[float] = []
    build_s: list[float] = []
    foreign = 0.0
    wrong: list[str] = []
    notes: list[str] = []
    for round_ in range(1, rounds + 1):
        progress(f"bulk codes round {round_}: raw COPY of {count} rows")
        built, copied, others = await raw_copy(db, world, count)
        build_s.append(built)
        raw_s.append(copied)
        foreign += others

        campaign_id = await world.campaign(
            f"Bench codes {round_}", total_quantity=None, per_customer_limit=1, publish=False
        )
        progress(f"bulk codes round {round_}: POST .../codes {{count: {count}}} on platform")
        machine = MachineCpu.now()
        platform_s.append(await platform_codes(world, campaign_id, count))
        foreign += MachineCpu.now().foreign_since(machine)
        issued, rows = await issued_counts(db, campaign_id)
        notes.append(
            f"round {round_}: platform {platform_s[-1] * 1000:.0f} ms, raw COPY "
            f"{raw_s[-1] * 1000:.0f} ms; DB issued_count {issued}, code rows {rows}"
        )
        if not issued == rows == count:
            wrong.append(f"bulk codes: {notes[-1]}")
    p, r = statistics.median(platform_s), statistics.median(raw_s)
    ratio = p / r
    notes.append(
        f"building the {count} rows in Python before the raw COPY (not timed above): "
        f"{statistics.median(build_s) * 1000:.0f} ms"
    )
    result = Result(
        f"6. Bulk codes: POST /api/v1/campaigns/{{id}}/codes {{count: {count}}} against a raw "
        f"asyncpg COPY of {count} rows (BEGIN, COPY, COMMIT); median of {rounds} rounds",
        [Line("time", p * 1000, r * 1000, "ms")],
        ratio,
        f"<= {CODES_TARGET:.2f}x",
        ratio <= CODES_TARGET,
        notes,
        baseline="raw COPY",
        foreign=foreign / ((sum(platform_s) + sum(raw_s)) * (os.cpu_count() or 1)),
    )
    return result, wrong


# --- output --------------------------------------------------------------------------------


def print_result(result: Result) -> None:
    print()
    print(result.title)
    print(f"  {'':<24}{'platform':>10}{result.baseline:>10}{'ratio':>9}  {'target':<10}result")
    for index, line in enumerate(result.lines):
        label = f"{line.label} ({line.unit})" if line.unit else line.label
        tail = ""
        if index == 0:
            verdict = "PASS" if result.met else "MISS"
            tail = f"{result.ratio:>8.2f}x  {result.target:<10}{verdict}"
        print(f"  {label:<24}{line.platform:>10.1f}{line.bare:>10.1f}{tail}")
    for note in result.notes:
        print(f"    {note}")
    print(f"    other processes on the machine used {result.foreign:.0%} of its CPU while timed")


async def postgres_version(db: asyncpg.Connection) -> str:
    version: str = await db.fetchval("SHOW server_version")
    return version


# --- the run -------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lookups", type=int, default=3000, help="measured lookups per server")
    parser.add_argument("--lookup-warmup", type=int, default=200)
    parser.add_argument("--redeems", type=int, default=1200, help="coupons redeemed per server")
    parser.add_argument("--transfers", type=int, default=600, help="gifts accepted per server")
    parser.add_argument("--swaps", type=int, default=600, help="listings accepted per server")
    parser.add_argument("--flash-rounds", type=int, default=7, help="bursts per server")
    parser.add_argument("--codes", type=int, default=100_000, help="codes per bulk request")
    parser.add_argument("--codes-rounds", type=int, default=2)
    args = parser.parse_args()
    if not 1 <= args.codes <= 100_000:
        parser.error("--codes is 1 to 100000 (the API's bound)")
    return args


async def benchmark(
    args: argparse.Namespace, platform: Server, bare: Server, db: asyncpg.Connection
) -> list[str]:
    """Every scenario; prints the tables and returns the wrong counts, if any."""
    async with httpx.AsyncClient(base_url=platform.base_url, timeout=REQUEST_TIMEOUT) as http:
        progress("set-up through the API: merchant applies, admin verifies, outlet, campaigns")
        world = await build_world(platform, http)
        per_server = args.redeems + REDEEM_WARMUP
        progress(f"seeding {2 * per_server} coupons through POST /api/v1/campaigns/{{id}}/claim")
        seeded = await seed_coupons(platform, world, 2 * per_server)
        coupons = {"platform": seeded[:per_server], "bare": seeded[per_server:]}

        results: list[Result] = []
        wrong: list[str] = []
        await events_delivered(db)
        results.append(
            await scenario_lookup(platform, bare, seeded, args.lookups, args.lookup_warmup)
        )
        flash, bad = await scenario_flash(platform, bare, world, db, args.flash_rounds)
        results.append(flash)
        wrong += bad
        redeem, bad = await scenario_redeem(platform, bare, world, db, coupons, args.redeems)
        results.append(redeem)
        wrong += bad
        transfer, bad = await scenario_transfer(platform, bare, world, db, args.transfers)
        results.append(transfer)
        wrong += bad
        swap, bad = await scenario_swap(platform, bare, world, db, args.swaps)
        results.append(swap)
        wrong += bad
        codes, bad = await scenario_codes(world, db, args.codes, args.codes_rounds)
        results.append(codes)
        wrong += bad

    for result in results:
        print_result(result)
    met = sum(r.met for r in results)
    print()
    print(f"targets met: {met} of {len(results)}")
    return wrong


async def run(args: argparse.Namespace) -> int:
    # SIGTERM cancels the run like Ctrl-C does, so the finally below still stops the
    # servers and drops the database.
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    server_url = os.environ.get("DATABASE_URL")
    embedded: EmbeddedPostgres | None = None
    if server_url:
        # asyncpg, the bare app and the platform all take the plain postgresql:// form.
        plain = make_url(server_url).set(drivername="postgresql")
        server_url = plain.render_as_string(hide_password=False)
        where = "PostgreSQL at DATABASE_URL"
    else:
        progress(f"starting the embedded PostgreSQL in {PGDATA_DIR.relative_to(REPO_ROOT)}")
        embedded = EmbeddedPostgres(PGDATA_DIR)
        server_url = embedded.start()
        where = f"embedded PostgreSQL ({PGDATA_DIR.relative_to(REPO_ROOT)})"
    servers: list[Server] = []
    database: Database | None = None
    try:
        database = await create_database(server_url, where)
        progress(f"migrating {database.name}")
        os.environ["DATABASE_URL"] = database.url  # what devstack.stack.migrate reads
        await migrate()
        servers.append(start_platform(database.url))
        servers.append(start_bare(database.url))
        platform, bare = servers
        progress(f"starting platform on :{platform.port} and bare app on :{bare.port}")
        await asyncio.gather(wait_ready(platform), wait_ready(bare))
        db = await asyncpg.connect(database.url)
        try:
            print(
                f"coupons bench: {os.cpu_count()} CPUs shared by load generator, servers and "
                f"PostgreSQL {await postgres_version(db)}; Python {python_version()}; "
                f"{database.description}; load average {os.getloadavg()[0]:.2f} at start"
            )
            dynamo = (
                "DynamoDB at DYNAMODB_ENDPOINT_URL"
                if os.environ.get("DYNAMODB_ENDPOINT_URL")
                else "its moto DynamoDB in a process of its own"
            )
            print(
                f"platform: python -m devstack run (all services behind the gateway, {dynamo}); "
                "bare: uvicorn bench/bare_app.py; both one worker, no access log"
            )
            wrong = await benchmark(args, platform, bare, db)
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
