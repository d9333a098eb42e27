"""Cold start: import plus the first request through each service's Lambda handler.

Each sample is a fresh interpreter that imports the handler module and sends it one API
Gateway HTTP API event, timed from the first line of the process to the response. The
request is the service's health endpoint, which reads the database; the baseline is a bare
FastAPI + Mangum app whose one route does the same `SELECT 1` through SQLAlchemy and
asyncpg. What the ratio measures is what our code adds: settings, the service's routers,
core's middleware and error handling, token verification, argon2, the event plumbing.

Two figures per handler:
- venv: the workspace's virtualenv, bytecode caches warmed first (the best case);
- bundle: what `make package` builds, for this machine's CPU and Python (the arm64 one
  cannot run here), run as the Lambda runtime runs it: `python -I -S -B` with only the
  bundle on the path beside the standard library, and no bytecode but what the bundle
  ships (`--bytecode` builds it with compiled modules, as `python -m infra.bundle
  --bytecode` would): the task folder is read-only, so -B keeps every sample as cold as
  the first. The baseline runs from the same bundle.

    make bench-coldstart          # or: python bench/coldstart.py --samples 7 [--bytecode]

Needs PostgreSQL: DATABASE_URL (or TEST_DATABASE_URL) when set, else the embedded one
`make run` uses.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from core.routing import SERVICES, ServiceRoutes
from devstack.stack.embedded import EmbeddedPostgres
from devstack.stack.services import REPO_ROOT, service_dir
from devstack.testing.lambda_harness import http_event
from infra.bundle import Bundle, build_bundle, host_target
from svc_auth.utils.signing import SigningKey

TARGET_RATIO = 1.5

# As the Lambda runtime starts: the bundle (the task folder) first on the path.
IN_BUNDLE = r"""
import sys
sys.path.insert(0, sys.argv.pop(1))
"""

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
        "DATABASE_READ_POOL_SIZE": "1",
        "LOCAL_STATE_DIR": str(state_dir),
        "AUTH_SIGNING_KEY": SigningKey.generate().to_pem(),
    }


def _database_url() -> tuple[str, EmbeddedPostgres | None]:
    url = os.environ.get("DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if url:
        return url, None
    embedded = EmbeddedPostgres(REPO_ROOT / ".local" / "pgdata", stop_on_exit=False)
    return embedded.start(), embedded


def _in_bundle(bundle: Path | None, probe: str) -> list[str]:
    """The interpreter's arguments: the venv's python as is, or the bundle alone."""
    if bundle is None:
        return ["-c", probe]
    # -I: no user site, no PYTHON* variables, no script directory; -S: no site-packages;
    # -B: no bytecode written, so no sample profits from an earlier one.
    return ["-I", "-S", "-B", "-c", IN_BUNDLE + probe, str(bundle)]


def measure(
    service: ServiceRoutes, environment: dict[str, str], samples: int, bundle: Path | None = None
) -> float:
    event = http_event("GET", f"/api/v1/{service.name}/health")
    main_py = (bundle or service_dir(service)) / "main.py"
    args = [*_in_bundle(bundle, SERVICE_PROBE), str(main_py), json.dumps(event)]
    return _median(args, environment, samples)


def measure_bare(environment: dict[str, str], samples: int, bundle: Path | None = None) -> float:
    from core.database.engine import asyncpg_url

    url = asyncpg_url(environment["DATABASE_URL"]).render_as_string(hide_password=False)
    event = http_event("GET", "/health")
    return _median([*_in_bundle(bundle, BARE_PROBE), url, json.dumps(event)], environment, samples)


def _report(label: str, bare: float, figures: dict[str, float], samples: int) -> float:
    print(f"{label}: bare FastAPI + Mangum {bare:7.1f} ms (median of {samples})")
    worst = 0.0
    for name, ms in figures.items():
        ratio = ms / bare
        worst = max(worst, ratio)
        verdict = "ok" if ratio <= TARGET_RATIO else f"over the {TARGET_RATIO}x target"
        print(f"{name:>22}: {ms:7.1f} ms  {ratio:4.2f}x bare  ({verdict})")
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5, help="fresh processes per handler")
    parser.add_argument(
        "--bytecode", action="store_true", help="bundles ship compiled modules (infra.bundle)"
    )
    parser.add_argument("--no-bundle", action="store_true", help="the venv figures only")
    args = parser.parse_args()
    database_url, _ = _database_url()
    environment = _environment(database_url, REPO_ROOT / ".local" / "bench-state")

    bare = measure_bare(environment, args.samples)
    venv = {s.directory: measure(s, environment, args.samples) for s in SERVICES}
    worst = _report("venv, bytecode warmed", bare, venv, args.samples)
    if args.no_bundle:
        return 0 if worst <= TARGET_RATIO else 1

    with tempfile.TemporaryDirectory(prefix="coldstart-") as scratch:
        bundles: dict[str, Bundle] = {
            s.directory: build_bundle(
                s, host_target(), out=Path(scratch) / s.directory, bytecode=args.bytecode
            )
            for s in SERVICES
        }
        first = next(iter(bundles.values()))
        bare_bundle = measure_bare(environment, args.samples, first.path)
        figures = {
            s.directory: measure(s, environment, args.samples, bundles[s.directory].path)
            for s in SERVICES
        }
        shipped = "bytecode shipped" if first.bytecode else "no bytecode shipped"
        print()
        worst = max(worst, _report(f"bundle, {shipped}", bare_bundle, figures, args.samples))
        for bundle in bundles.values():
            print(f"  {bundle.describe()}")
    return 0 if worst <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
