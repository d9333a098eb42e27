"""Cold start: import plus the first request through each service's Lambda handler.

Each sample is a fresh interpreter that imports the handler module and sends it one API
Gateway HTTP API event, timed from the first line of the process to the response. The
request is the service's health endpoint, which reads the database; the baseline is a bare
FastAPI + Mangum app whose one route does the same `SELECT 1` through SQLAlchemy and
asyncpg. What the ratio measures is what our code adds: settings, the service's routers,
core's middleware and error handling, token verification, argon2, the event plumbing.

    make bench-coldstart          # or: python bench/coldstart.py --samples 7

Needs PostgreSQL: DATABASE_URL (or TEST_DATABASE_URL) when set, else the embedded one
`make run` uses. Bytecode caches are warmed first, as a deployed bundle would ship them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from core.routing import SERVICES, ServiceRoutes
from devstack.embedded import EmbeddedPostgres
from devstack.lambda_harness import http_event
from devstack.services import REPO_ROOT, service_dir
from svc_auth.utils.signing import SigningKey

TARGET_RATIO = 1.5

SERVICE_PROBE = r"""
import time
started = time.perf_counter()
import json, sys, importlib.util
spec = importlib.util.spec_from_file_location("main", sys.argv[1])
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)
response = main.handler(json.loads(sys.argv[2]), None)
elapsed = (time.perf_counter() - started) * 1000
assert response["statusCode"] == 200, response
print(json.dumps({"ms": elapsed}))
"""

BARE_PROBE = r"""
import time
started = time.perf_counter()
import json, sys
from fastapi import FastAPI
from mangum import Mangum
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

engine = None
app = FastAPI()

@app.get("/health")
async def health():
    global engine
    if engine is None:
        engine = create_async_engine(sys.argv[1], pool_size=1)
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return {"status": "ok"}

handler = Mangum(app, lifespan="off")
response = handler(json.loads(sys.argv[2]), None)
elapsed = (time.perf_counter() - started) * 1000
assert response["statusCode"] == 200, response
print(json.dumps({"ms": elapsed}))
"""


def _sample(args: list[str], environment: dict[str, str]) -> float:
    done = subprocess.run(  # noqa: S603
        [sys.executable, *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    ms: float = json.loads(done.stdout.strip().splitlines()[-1])["ms"]
    return ms


def _median(args: list[str], environment: dict[str, str], samples: int) -> float:
    _sample(args, environment)  # bytecode caches, page cache
    return statistics.median(_sample(args, environment) for _ in range(samples))


def _environment(database_url: str, state_dir: Path) -> dict[str, str]:
    """What a deployed function has once its secrets are loaded."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "ENVIRONMENT": "local",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "DATABASE_POOL_SIZE": "1",
        "DATABASE_MAX_OVERFLOW": "1",
        "LOCAL_STATE_DIR": str(state_dir),
        "AUTH_SIGNING_KEY": SigningKey.generate().to_pem(),
    }


def _database_url() -> tuple[str, EmbeddedPostgres | None]:
    url = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        return url, None
    embedded = EmbeddedPostgres(REPO_ROOT / ".local" / "pgdata", stop_on_exit=False)
    return embedded.start(), embedded


def measure(service: ServiceRoutes, environment: dict[str, str], samples: int) -> float:
    event = http_event("GET", f"/api/v1/{service.name}/health")
    main_py = service_dir(service) / "main.py"
    return _median(["-c", SERVICE_PROBE, str(main_py), json.dumps(event)], environment, samples)


def measure_bare(environment: dict[str, str], samples: int) -> float:
    from core.database.engine import asyncpg_url

    url = asyncpg_url(environment["DATABASE_URL"]).render_as_string(hide_password=False)
    event = http_event("GET", "/health")
    return _median(["-c", BARE_PROBE, url, json.dumps(event)], environment, samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5, help="fresh processes per handler")
    args = parser.parse_args()
    database_url, _ = _database_url()
    environment = _environment(database_url, REPO_ROOT / ".local" / "bench-state")
    bare = measure_bare(environment, args.samples)
    print(f"bare FastAPI + Mangum: {bare:7.1f} ms (median of {args.samples})")
    worst = 0.0
    for service in SERVICES:
        ms = measure(service, environment, args.samples)
        ratio = ms / bare
        worst = max(worst, ratio)
        verdict = "ok" if ratio <= TARGET_RATIO else f"over the {TARGET_RATIO}x target"
        print(f"{service.directory:>22}: {ms:7.1f} ms  {ratio:4.2f}x bare  ({verdict})")
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
