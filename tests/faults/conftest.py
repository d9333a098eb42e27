"""The fault suite's stack: the real pieces, each one a test can break.

- PostgreSQL: an embedded server of the suite's own (stopped and started again by a test).
- DynamoDB: the moto server in a process of its own (paused with SIGSTOP, as a throttled or
  unreachable endpoint behaves, and resumed).
- svc-merchants as svc-coupons reaches it: through a TCP relay the test controls, which can
  refuse connections or accept them and never answer.
- The platform itself: `python -m devstack run` in a process of its own, on a free port,
  driven over HTTP as a portal would.

Sweeps run every second here (they run every 30 s under `make run`), so a test can watch
the outbox empty once a fault ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from devstack.stack.embedded import EmbeddedDynamo, connect, free_port
from devstack.stack.services import REPO_ROOT
from devstack.testing.api import AuthApi, bearer
from devstack.testing.tokens import TestTokens
from svc_auth.utils.signing import LOCAL_PRIVATE_KEY_FILE, KeyRing, SigningKey

STACK_START_SECONDS = 90
# What the stack reads from the environment that the suite sets itself.
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
        "DATABASE_URL",
        "DYNAMODB_ENDPOINT_URL",
        "EVENT_DELIVERY",
    }
)


@dataclass
class Postgres:
    """An embedded PostgreSQL the suite may stop and start: a restart, an RDS reboot."""

    data_dir: Path
    server: Any = None
    url: str = ""

    def start(self) -> None:
        import pgserver

        if self.server is None:
            self.server = pgserver.get_server(self.data_dir, cleanup_mode="stop")
            self.url = self.server.get_uri()
        else:
            self.server.ensure_postgres_running()

    def stop(self) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "stop", "-m", "fast"], pgdata=self.data_dir, user=self.server.system_user)

    def cleanup(self) -> None:
        if self.server is not None:
            self.server.cleanup()

    async def connect(self) -> asyncpg.Connection:
        connection: asyncpg.Connection = await connect(self.url)
        return connection

    async def fetchval(self, query: str, *args: Any) -> Any:
        connection = await self.connect()
        try:
            return await connection.fetchval(query, *args)
        finally:
            await connection.close()

    async def undelivered(self) -> int:
        return await self._count_outbox("delivered_at IS NULL")

    async def dead_lettered(self) -> int:
        return await self._count_outbox("dead_lettered_at IS NOT NULL")

    async def _count_outbox(self, condition: str) -> int:
        total = 0
        for schema in ("auth", "merchants", "coupons"):
            total += await self.fetchval(
                f"SELECT count(*) FROM {schema}.outbox WHERE {condition}"  # noqa: S608
            )
        return int(total)


@dataclass
class Relay:
    """A TCP relay to the stack's gateway for svc-coupons' calls to svc-merchants; `mode`
    up (forward), refused (nobody listens) or silent (accept, never answer)."""

    target_port: int
    port: int = field(default_factory=free_port)
    mode: str = "up"
    _server: asyncio.Server | None = None
    _open: set[asyncio.StreamWriter] = field(default_factory=set)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def set(self, mode: str) -> None:
        self.mode = mode
        # A keep-alive connection would carry on as if nothing happened: end them all.
        for writer in list(self._open):
            writer.close()
        self._open.clear()
        if mode == "refused" and self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        elif mode != "refused" and self._server is None:
            await self.start()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        if self.mode == "silent":
            return
        upstream_reader, upstream_writer = await asyncio.open_connection(
            "127.0.0.1", self.target_port
        )

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))

    async def close(self) -> None:
        for writer in self._open:
            writer.close()
        if self._server is not None:
            self._server.close()


@dataclass
class Stack:
    base_url: str
    process: subprocess.Popen[bytes]
    tokens: TestTokens
    log: Path

    def unexpected_errors(self) -> list[str]:
        """The stack's own account of its 500s: each logged error's last lines."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if record.get("level") == "ERROR" and "unexpected" in record.get("message", ""):
                    found.append(record["message"] + "\n" + record.get("exception", "")[-1500:])
        return found


@dataclass
class Shop:
    merchant_id: str
    outlet_id: str
    owner: dict[str, str]
    campaign_id: str


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    found = Postgres(Path(tempfile.mkdtemp(prefix="faults-pg-")))
    found.start()
    yield found
    found.cleanup()


@pytest.fixture(scope="module")
def dynamo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedDynamo]:
    server = EmbeddedDynamo(log_file=tmp_path_factory.mktemp("dynamo") / "dynamodb.log")
    server.start()
    yield server
    if server.process is not None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


@pytest.fixture(scope="module")
async def merchants_relay() -> AsyncIterator[Relay]:
    relay = Relay(target_port=free_port())
    await relay.start()
    yield relay
    await relay.close()


@pytest.fixture(scope="module")
def stack_settings() -> dict[str, str]:
    """Settings a test module gives its stack on top of the suite's (override it there)."""
    return {}


@pytest.fixture(scope="module")
async def stack(
    postgres: Postgres,
    dynamo: EmbeddedDynamo,
    merchants_relay: Relay,
    stack_settings: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    state = tmp_path_factory.mktemp("stack-state")
    port = merchants_relay.target_port
    env = (
        {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
        | {
            "PORT": str(port),
            "DATABASE_URL": postgres.url,
            "DYNAMODB_ENDPOINT_URL": f"http://127.0.0.1:{dynamo.port}",
            "LOCAL_STATE_DIR": str(state),
            "JWT_ISSUER": f"http://127.0.0.1:{port}",
            "COUPONS_MERCHANTS_API_URL": f"http://127.0.0.1:{merchants_relay.port}",
            "DEVSTACK_SWEEP_SECONDS": "1",
            "OUTBOX_SWEEP_AFTER_SECONDS": "1",
            # Short enough that a test sees a merchant leave the cache.
            "COUPONS_MERCHANT_CACHE_SECONDS": "3",
            "COUPONS_MERCHANT_CACHE_LOCAL_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
            # A few callers send each load here: their per-caller ceilings would answer 429
            # where these tests look at what a failing dependency does.
            "COUPONS_CALLER_WRITES_PER_WINDOW": "1000000",
            "COUPONS_CALLER_LOOKUPS_PER_WINDOW": "1000000",
            # Each load is one campaign's claims, 8 to 16 at once: the per-campaign bound
            # would answer 429 campaign_busy where these tests look at a failing dependency.
            "COUPONS_CLAIMS_IN_FLIGHT_PER_CAMPAIGN": "1000000",
        }
        | stack_settings
    )
    # Kept where the next run does not clean it up: .local is the checkout's own scratch.
    log = REPO_ROOT / ".local" / "faults-stack.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        # Started once per module, before any request: blocking for that moment is fine.
        process = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "-m", "devstack", "run"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STACK_START_SECONDS
    async with httpx.AsyncClient(base_url=base_url, timeout=2) as http:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the stack exited at start:\n{log.read_text()[-4000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/api/v1/coupons/health")).status_code == 200:
                    break
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"the stack did not start:\n{log.read_text()[-4000:]}")
            await asyncio.sleep(0.2)
    pem = (state / "keys" / LOCAL_PRIVATE_KEY_FILE).read_text()
    tokens = TestTokens(KeyRing(SigningKey.from_pem(pem)), issuer=base_url)
    yield Stack(base_url, process, tokens, log)
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    # The client never waits long itself: the stack's own bounds are what is tested.
    async with httpx.AsyncClient(base_url=stack.base_url, timeout=30) as client:
        yield client


async def expect(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def open_shop(http: httpx.AsyncClient, tokens: TestTokens, **campaign: Any) -> Shop:
    """A verified merchant with an outlet and an active campaign, made through the API."""
    owner_account = await AuthApi(http).register(f"owner-{uuid.uuid4().hex[:8]}@faults.example")
    applicant = uuid.UUID(owner_account["id"])
    merchant = await expect(
        await http.post(
            "/api/v1/merchants",
            json={
                "name": "Fault Bakery",
                "country": "DE",
                "currency": "EUR",
                "timezone": "Europe/Berlin",
            },
            headers=bearer(tokens.token(subject=applicant)),
        ),
        201,
    )
    await expect(
        await http.post(
            f"/api/v1/merchants/{merchant['id']}/verify", headers=bearer(tokens.admin())
        ),
        200,
    )
    owner = bearer(
        tokens.token(
            subject=applicant,
            memberships=((uuid.UUID(merchant["id"]), "owner"),),
            client_id="merchant-portal",
        )
    )
    outlet = await expect(
        await http.post(
            f"/api/v1/merchants/{merchant['id']}/outlets",
            json={"name": "Main", "address": "Hauptstrasse 1"},
            headers=owner,
        ),
        201,
    )
    now = datetime.now(UTC)
    created = await expect(
        await http.post(
            "/api/v1/campaigns",
            json={
                "merchant_id": merchant["id"],
                "title": "Fault campaign",
                "discount_type": "percentage",
                "discount_value": 10,
                "per_customer_limit": 10_000,
                "starts_at": (now - timedelta(minutes=5)).isoformat(),
                "ends_at": (now + timedelta(days=5)).isoformat(),
            }
            | campaign,
            headers=owner,
        ),
        201,
    )
    await expect(await http.post(f"/api/v1/campaigns/{created['id']}/publish", headers=owner), 200)
    return Shop(merchant["id"], outlet["id"], owner, created["id"])


async def eventually(check: Any, *, within: float, every: float = 0.25) -> Any:
    """`check()`'s first truthy answer within `within` seconds; the last answer otherwise."""
    deadline = time.monotonic() + within
    while True:
        answer = await check()
        if answer or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(every)
