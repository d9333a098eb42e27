"""svc-coupons' deployed Lambda handler, invoked in-process, against a bare FastAPI + Mangum one.

    make bench-lambda     # or: .venv/bin/python bench/lambda_bench.py [--help]

What a warm Lambda invocation costs: API Gateway HTTP API (payload 2.0) events for lookup,
claim and redeem, fed in a loop to `handler(event, context)` of svc-coupons' main.py,
loaded by devstack.testing.lambda_harness as the Lambda runtime loads it (its own thread, one event
loop and one small pool across invocations; a deployed environment: ENVIRONMENT=dev, pool
1 + 1, a ping for a connection idle 5 s or more, LAMBDA_DELIVERY_EXTENSION on: a write's
events go to the DynamoDB audit trail after the response, from the function's internal
extension). A local Extensions API (devstack.testing.lambda_extensions_api) plays Lambda's part:
each invocation hands the extension its INVOKE event, runs the handler, and ends when the
extension asks for its next event. The baseline is `Mangum(bare_app.app,
lifespan="off")` running the same statements (bench/bare_app.py) with the same pool, no
auth, no events.

"wall" is what the caller waits for: until the handler has returned its answer. "after" is
how long the platform's environment stays busy after that, delivering (the next
invocation in the same environment waits for it; the caller does not). With
--inline the events go before the response, as with LAMBDA_DELIVERY_EXTENSION off.

For each scenario: three rounds per handler, alternating, each of --invocations
invocations after a warm-up; per invocation the median round's wall time and the CPU of
the process (both handlers run in this process, one at a time), and their ratio. Target:
the caller's wait per platform invocation <= 1.5x the bare handler's.

Set-up as in coupons_bench.py (bench/hotpaths/): a fresh database on DATABASE_URL's server
(else an embedded one), migrated; the whole platform started on a free port to make the
merchant, its outlet, campaigns and coupons through its API (and to answer svc-coupons'
merchant checks, as svc-merchants would); coupons to redeem are seeded straight into their table
(bench/seeding.py). One moto DynamoDB server, in a process of its own, serves both the
platform and the handler (DYNAMODB_ENDPOINT_URL when set). The CPU per invocation of what
the handlers call (the PostgreSQL backends of the bench's database, the DynamoDB server)
is shown apart, and other processes' share of the machine next to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from platform import python_version
from typing import Any

import asyncpg
import httpx
from hotpaths.base import PGDATA_DIR, STATE_ROOT, BenchError, progress
from hotpaths.database import create_database, drop_database
from hotpaths.servers import start_platform, wait_ready
from hotpaths.world import World, build_world, seed_coupons
from loadgen import children_of, database_backends, machine_busy_seconds, process_cpu_seconds
from profiling import Sampler, ensure_py_spy, table
from seeding import seed_active_coupons
from sqlalchemy import make_url

from devstack.stack.bring_up import migrate
from devstack.stack.embedded import EmbeddedDynamo, EmbeddedPostgres
from devstack.stack.services import REPO_ROOT
from devstack.testing.api import bearer
from devstack.testing.lambda_extensions_api import FakeExtensionsApi, extensions_api
from devstack.testing.lambda_harness import LambdaContext, LambdaHarness, http_event

MAIN_PY = REPO_ROOT / "services" / "svc-coupons" / "main.py"
TARGET = 1.5  # the caller's wait per platform invocation <= 1.5x the bare handler's
# A deployed issuer (ENVIRONMENT=dev refuses the local one); the handler's tokens are signed
# with the platform's key under it.
ISSUER = "https://auth.bench.example.com"
ROUNDS = 3
WARMUP = 50
CPUS = os.cpu_count() or 1


@dataclass
class Served:
    response: Any
    waited: float  # seconds the caller waited
    after_response: float = 0.0  # seconds the environment stayed busy after answering


class Invoked:
    """A harness invoked as the Lambda service invokes it, without an extension: the
    caller waits for the whole invocation."""

    def __init__(self, harness: Any) -> None:
        self.harness = harness

    def __call__(self, event: Mapping[str, Any]) -> Served:
        started = time.perf_counter()
        response = self.harness.invoke(event)
        return Served(response, time.perf_counter() - started)


class InvokedWithExtension:
    """The platform's handler with its delivery extension registered at the local
    Extensions API: the caller waits until the handler returns, the invocation ends when
    the extension is done."""

    def __init__(self, harness: LambdaHarness, api: FakeExtensionsApi) -> None:
        self.harness = harness
        self.api = api

    def __call__(self, event: Mapping[str, Any]) -> Served:
        response, invocation = self.api.invoke(lambda: self.harness.invoke(event))
        return Served(response, invocation.caller_waited_seconds, invocation.after_response_seconds)


class BareHarness:
    """bare_app's FastAPI app behind Mangum, on a thread of its own like LambdaHarness."""

    def __init__(self, environment: Mapping[str, str]) -> None:
        os.environ.update(environment)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bare-lambda")
        self.handler = self._thread.submit(self._load).result()

    @staticmethod
    def _load() -> Any:
        import bare_app
        from mangum import Mangum

        asyncio.set_event_loop(asyncio.new_event_loop())
        return Mangum(bare_app.app, lifespan="off")

    def invoke(self, event: Mapping[str, Any], context: LambdaContext | None = None) -> Any:
        return self._thread.submit(self.handler, dict(event), context or LambdaContext()).result()

    def close(self) -> None:
        self._thread.shutdown()


@dataclass
class Round:
    wall_ms: float  # per invocation: what the caller waited for
    after_ms: float  # per invocation: the environment busy after the answer
    cpu_ms: float  # per invocation, this process (both handlers run in it, one at a time)
    backing_ms: float  # per invocation: the PostgreSQL backends and DynamoDB server serving it
    foreign: float  # share of the machine's CPU other processes used meanwhile


def backing_cpu(database: str) -> Callable[[], float]:
    """CPU seconds so far of what the handlers call: the backends serving the bench's
    database, and this process's children (the DynamoDB server, the set-up platform, idle
    while the rounds run). Theirs is not "others'": in AWS it is RDS's and DynamoDB's."""

    def used() -> float:
        pids = {*children_of(os.getpid()), *database_backends(database)}
        return sum(process_cpu_seconds(pid) for pid in pids)

    return used


def run_round(
    invoke: Callable[[Mapping[str, Any]], Served],
    events: Sequence[Mapping[str, Any]],
    status: int,
    backing: Callable[[], float],
) -> Round:
    cpu, busy, served = time.process_time(), machine_busy_seconds(), backing()
    waited = after = 0.0
    started = time.perf_counter()
    for event in events:
        answer = invoke(event)
        response = answer.response
        if response["statusCode"] != status:
            raise BenchError(f"answered {response['statusCode']}: {response.get('body')}")
        waited += answer.waited
        after += answer.after_response
    wall = time.perf_counter() - started
    used, served = time.process_time() - cpu, backing() - served
    foreign = max(machine_busy_seconds() - busy - used - served, 0.0) / (wall * CPUS)
    count = len(events)
    return Round(
        waited / count * 1000,
        after / count * 1000,
        used / count * 1000,
        served / count * 1000,
        foreign,
    )


@dataclass
class Scenario:
    name: str
    status: int
    platform_events: Callable[[int], Sequence[Mapping[str, Any]]]
    bare_events: Callable[[int], Sequence[Mapping[str, Any]]]


def measure(
    scenario: Scenario,
    platform: Callable[[Mapping[str, Any]], Served],
    bare: Callable[[Mapping[str, Any]], Served],
    invocations: int,
    backing: Callable[[], float],
    profile: list[Counter[str]] | None = None,
) -> dict[str, list[Round]]:
    """`profile`: the platform's rounds are sampled (py-spy, this process) into it."""
    handlers = {"platform": (platform, scenario.platform_events)}
    handlers["bare"] = (bare, scenario.bare_events)
    for name, (invoke, events) in handlers.items():
        progress(f"{scenario.name}: {WARMUP} warm-up invocations of {name}")
        run_round(invoke, events(WARMUP), scenario.status, backing)
    rounds: dict[str, list[Round]] = {"platform": [], "bare": []}
    order = list(handlers)
    for round_ in range(ROUNDS):
        for name in order if round_ % 2 == 0 else order[::-1]:
            invoke, events = handlers[name]
            progress(f"{scenario.name} round {round_ + 1}: {invocations} invocations of {name}")
            batch = events(invocations)
            sampler = None
            if profile is not None and name == "platform":
                output = STATE_ROOT / f"lambda-profile-{os.getpid()}-{uuid.uuid4().hex[:6]}.txt"
                sampler = Sampler(ensure_py_spy(), os.getpid(), output)
            try:
                rounds[name].append(run_round(invoke, batch, scenario.status, backing))
            finally:
                if sampler is not None and profile is not None:
                    profile.append(sampler.stop())
                    sampler.output.unlink(missing_ok=True)
    return rounds


def scenarios(world: World, db_url: str, coupons: Sequence[Any]) -> list[Scenario]:
    tokens = world.tokens
    codes = [c.code for c in coupons]
    owner_tokens = {c.code: tokens.token(subject=uuid.UUID(c.owner_id)) for c in coupons}
    owner_token = tokens.token(
        subject=uuid.UUID(world.owner_id),
        memberships=((uuid.UUID(world.merchant_id), "owner"),),
        client_id="merchant-portal",
    )

    def cycled(n: int, make: Callable[[str], Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return [make(codes[i % len(codes)]) for i in range(n)]

    def lookups(n: int) -> list[Mapping[str, Any]]:
        return cycled(
            n, lambda c: http_event("GET", f"/api/v1/coupons/{c}", headers=bearer(owner_tokens[c]))
        )

    def bare_lookups(n: int) -> list[Mapping[str, Any]]:
        return cycled(n, lambda c: http_event("GET", f"/coupons/{c}"))

    customer = uuid.uuid4()
    customer_token = tokens.token(subject=customer)

    def campaign() -> str:
        return run_async(
            world.campaign("Lambda", total_quantity=None, per_customer_limit=10_000, publish=True)
        )

    def claims(n: int) -> list[Mapping[str, Any]]:
        path = f"/api/v1/campaigns/{campaign()}/claim"
        return [http_event("POST", path, headers=bearer(customer_token)) for _ in range(n)]

    def bare_claims(n: int) -> list[Mapping[str, Any]]:
        path = f"/campaigns/{campaign()}/claim"
        return [http_event("POST", path, headers={"x-user-id": str(customer)}) for _ in range(n)]

    redeem_campaign = uuid.UUID(campaign())
    body = {"outlet_id": world.outlet_id, "order_amount": 2000}

    def fresh_codes(n: int) -> list[str]:
        async def seed() -> list[str]:
            db = await asyncpg.connect(db_url)
            try:
                seeded = await seed_active_coupons(
                    db, campaign_id=redeem_campaign, owner_id=uuid.uuid4(), count=n
                )
            finally:
                await db.close()
            return [code for _, code in seeded]

        return run_async(seed())

    def redeems(n: int) -> list[Mapping[str, Any]]:
        return [
            http_event(
                "POST",
                f"/api/v1/coupons/{code}/redeem",
                headers=bearer(owner_token),
                json_body=body,
            )
            for code in fresh_codes(n)
        ]

    def bare_redeems(n: int) -> list[Mapping[str, Any]]:
        return [
            http_event("POST", f"/coupons/{code}/redeem", json_body=body) for code in fresh_codes(n)
        ]

    return [
        Scenario("lookup", 200, lookups, bare_lookups),
        Scenario("claim", 201, claims, bare_claims),
        Scenario("redeem", 200, redeems, bare_redeems),
    ]


_LOOP: asyncio.AbstractEventLoop | None = None


async def undelivered_events(db_url: str) -> tuple[int, str | None]:
    """The platform's outbox rows left undelivered (none, if delivery after the response lost
    nothing; the bare app's own rows are never delivered), and the last error on one."""
    from bare_app import BARE_ACTOR

    db = await asyncpg.connect(db_url)
    try:
        row = await db.fetchrow(
            "SELECT count(*) AS left, max(last_error) AS error FROM coupons.outbox"
            " WHERE delivered_at IS NULL AND actor IS DISTINCT FROM $1",
            BARE_ACTOR,
        )
    finally:
        await db.close()
    return row["left"], row["error"]


def run_async(coroutine: Any) -> Any:
    """Set-up calls on the main thread's loop (the handlers run on threads of their own)."""
    assert _LOOP is not None
    return _LOOP.run_until_complete(coroutine)


def report(name: str, rounds: Mapping[str, list[Round]]) -> bool:
    def median(key: str, figure: Callable[[Round], float]) -> float:
        return statistics.median(figure(r) for r in rounds[key])

    p_wall, b_wall = median("platform", lambda r: r.wall_ms), median("bare", lambda r: r.wall_ms)
    p_after = median("platform", lambda r: r.after_ms)
    p_cpu, b_cpu = median("platform", lambda r: r.cpu_ms), median("bare", lambda r: r.cpu_ms)
    p_backing = median("platform", lambda r: r.backing_ms)
    b_backing = median("bare", lambda r: r.backing_ms)
    foreign = statistics.mean(r.foreign for key in rounds for r in rounds[key])
    ratio = p_wall / b_wall
    met = ratio <= TARGET
    print(
        f"  {name:<8}{p_wall:>10.2f}{b_wall:>10.2f}{ratio:>8.2f}x{p_after:>8.2f}"
        f"{p_cpu:>10.2f}{b_cpu:>10.2f}"
        f"{p_cpu / b_cpu:>8.2f}x{p_backing:>10.2f}{b_backing:>10.2f}{foreign:>8.0%}"
        f"  {'PASS' if met else 'MISS'}"
    )
    return met


@contextmanager
def database_server() -> Iterator[tuple[str, str, EmbeddedPostgres | None]]:
    server_url = os.environ.get("DATABASE_URL")
    if server_url:
        plain = make_url(server_url).set(drivername="postgresql")
        yield plain.render_as_string(hide_password=False), "PostgreSQL at DATABASE_URL", None
        return
    embedded = EmbeddedPostgres(PGDATA_DIR)
    try:
        yield embedded.start(), "embedded PostgreSQL", embedded
    finally:
        embedded.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--invocations", type=int, default=400, help="per round and handler")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the platform's rounds with py-spy and print where its CPU went",
    )
    parser.add_argument(
        "--inline",
        action="store_true",
        help="no delivery extension: events delivered before the response (as before)",
    )
    args = parser.parse_args()
    global _LOOP
    _LOOP = asyncio.new_event_loop()
    STATE_ROOT.mkdir(parents=True, exist_ok=True)
    import tempfile

    state = Path(tempfile.mkdtemp(prefix=f"lambda-{os.getpid()}-", dir=STATE_ROOT))
    dynamo: EmbeddedDynamo | None = None
    platform_server = None
    harnesses: list[Any] = []
    api_context = extensions_api()
    api = api_context.__enter__()
    try:
        with database_server() as (server_url, where, _):
            database = run_async(create_database(server_url, where))
            try:
                os.environ["DATABASE_URL"] = database.url
                run_async(migrate())
                if not os.environ.get("DYNAMODB_ENDPOINT_URL"):
                    dynamo = EmbeddedDynamo(log_file=state / "dynamodb.log")
                    os.environ["DYNAMODB_ENDPOINT_URL"] = dynamo.start()
                for name, value in {
                    "AWS_ACCESS_KEY_ID": "local",
                    "AWS_SECRET_ACCESS_KEY": "local",
                    "AWS_DEFAULT_REGION": "us-east-1",
                }.items():
                    os.environ.setdefault(name, value)
                platform_server = start_platform(state, database.url, issuer=ISSUER)
                progress(f"starting the platform on :{platform_server.port} for the set-up")
                run_async(wait_ready(platform_server))
                http = httpx.AsyncClient(base_url=platform_server.base_url, timeout=30)
                world = run_async(build_world(state, platform_server, http, issuer=ISSUER))
                coupons = run_async(
                    seed_coupons(platform_server, world, 160, customers=world.customers(16))
                )
                jwks = json.dumps(world.tokens.keys.jwks())
                environment = {
                    "ENVIRONMENT": "dev",
                    "DATABASE_URL": database.url,
                    "DATABASE_POOL_SIZE": "1",
                    "DATABASE_MAX_OVERFLOW": "1",
                    "DATABASE_READ_POOL_SIZE": "1",
                    "JWT_ISSUER": ISSUER,
                    "JWT_JWKS": jwks,
                    "COUPONS_MERCHANTS_API_URL": platform_server.base_url,
                    "LOCAL_STATE_DIR": str(state),
                    "AWS_LAMBDA_FUNCTION_NAME": "svc-coupons",
                    # A deployed environment refuses the local secret; this run's own.
                    "SERVER_SECRET": secrets.token_hex(32),
                    # One customer makes every claim: per-caller ceilings still counted (as
                    # in coupons_bench.py), never reached.
                    "COUPONS_CALLER_LIMITS": "1",
                    "COUPONS_CALLER_WRITES_PER_WINDOW": "1000000000",
                    "COUPONS_CALLER_LOOKUPS_PER_WINDOW": "1000000000",
                }
                if not args.inline:
                    environment |= {
                        "AWS_LAMBDA_RUNTIME_API": api.address,
                        "LAMBDA_DELIVERY_EXTENSION": "true",
                    }
                harness = LambdaHarness(MAIN_PY, environment)
                harnesses.append(harness)
                platform: Callable[[Mapping[str, Any]], Served] = Invoked(harness)
                if not args.inline:
                    if not api.registrations:
                        raise BenchError("the handler registered no extension")
                    platform = InvokedWithExtension(harness, api)
                bare = BareHarness(
                    {
                        "BENCH_DATABASE_URL": database.url,
                        "BENCH_POOL_MIN": "1",
                        "BENCH_POOL_MAX": "2",
                    }
                )
                harnesses.append(bare)
                delivery = (
                    "events delivered inline, before the response"
                    if args.inline
                    else "events delivered after the response by its extension"
                )
                print(
                    f"lambda bench: svc-coupons' main.py handler (ENVIRONMENT=dev, pool 1 + 1, "
                    f"{delivery}) against Mangum(bare_app.app); "
                    f"{where}; Python {python_version()}; {CPUS} CPUs; {args.invocations} "
                    f"invocations a round, {ROUNDS} rounds each, alternating; medians"
                )
                results: list[tuple[str, dict[str, list[Round]]]] = []
                backing = backing_cpu(database.name)
                profiles: dict[str, list[Counter[str]]] = {}
                # The handlers log as deployed, a JSON line or more per invocation (stdout is
                # CloudWatch's): into a file here, not the report.
                with (state / "handlers.log").open("w") as log, redirect_stdout(log):
                    for scenario in scenarios(world, database.url, coupons):
                        profile = profiles.setdefault(scenario.name, []) if args.profile else None
                        rounds = measure(
                            scenario, platform, Invoked(bare), args.invocations, backing, profile
                        )
                        results.append((scenario.name, rounds))
                left, error = run_async(undelivered_events(database.url))
                if left:
                    raise BenchError(f"{left} events were left undelivered (last error: {error})")
                run_async(http.aclose())
                print()
                print(
                    f"  {'':<8}{'platform':>10}{'bare':>10}{'ratio':>9}{'after':>8}"
                    f"{'platform':>10}{'bare':>10}{'ratio':>9}{'platform':>10}{'bare':>10}"
                    f"{'others':>8}"
                )
                print(
                    f"  {'':<8}{'caller waits, ms/invocation':>35}"
                    f"{'CPU ms/invocation':>29}{'PG + DynamoDB CPU ms':>22}"
                    f"  target: wait <= {TARGET:.1f}x"
                )
                met = [report(name, rounds) for name, rounds in results]
                print(f"targets met: {sum(met)} of {len(met)}")
                for name, rounds in results:
                    if profiles.get(name):
                        cpu_ms = statistics.median(r.cpu_ms for r in rounds["platform"])
                        print(f"\n{name}: where the platform handler's CPU went (py-spy)")
                        for line in table(sum(profiles[name], Counter()), cpu_ms):
                            print(f"    {line}")
            finally:
                for harness in harnesses:
                    harness.close()
                if platform_server is not None:
                    platform_server.stop()
                run_async(drop_database(server_url, database))
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        api_context.__exit__(None, None, None)
        if dynamo is not None:
            dynamo.stop()
        import shutil

        shutil.rmtree(state, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
