"""The servers under load: the platform (`make run`'s stack) and the two baselines, each a
process of its own on a free loopback port."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.config import PlatformSettings
from devstack.stack.embedded import free_port
from devstack.stack.services import REPO_ROOT
from hotpaths.base import BENCH_DIR, LOOPBACK, BenchError

START_TIMEOUT = 90.0


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


def start_platform(
    state: Path,
    database_url: str,
    issuer: str | None = None,
    *,
    name: str = "platform",
    caller_limits: bool = True,
) -> Server:
    """`issuer`: the tokens' (default: the platform's own address, as `make run` has it).
    `caller_limits=False`: the same platform without svc-coupons' per-caller limits, which
    lookup and claim run beside it to show what counting costs."""
    port = free_port()
    env = _inherited_env() | {
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "LOCAL_STATE_DIR": str(state),
        "JWT_ISSUER": issuer or f"http://{LOOPBACK}:{port}",
        "COUPONS_MERCHANTS_API_URL": f"http://{LOOPBACK}:{port}",
        # Every request of the load comes from one address.
        "AUTH_TOKEN_PER_ADDRESS": "1000000000",
        # A scenario's load is one caller, or a few: limits still counted, never reached.
        "COUPONS_CALLER_LIMITS": "1" if caller_limits else "0",
        "COUPONS_CALLER_WRITES_PER_WINDOW": "1000000000",
        "COUPONS_CALLER_LOOKUPS_PER_WINDOW": "1000000000",
        # A claim round's whole load is one campaign, and the bare app has no bound: what is
        # measured is what the database gives one campaign, not the per-process bound that
        # sheds a hot campaign's excess with 429 campaign_busy (services.claims_in_flight).
        "COUPONS_CLAIMS_IN_FLIGHT_PER_CAMPAIGN": "1000000000",
    }
    args = [sys.executable, "-m", "devstack", "run"]
    return _spawn(state, name, args, env, port, "/api/v1/coupons/health")


def start_baseline(state: Path, name: str, module: str, database_url: str) -> Server:
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
