"""What each Lambda handler imports at cold start, from `python -X importtime`.

Each service's main.py is imported in a fresh interpreter (bytecode cached, as a bundle
built with bytecode has it); the report lists the total, the heaviest top-level packages
(cumulative microseconds of their own and their imports' first import), and whether the
modules kept off the cold path (loaded where first used) stayed off it. Time is counted
where it is spent: each module's own import time goes to its top-level package.

    .venv/bin/python bench/importtime.py            # prints the report
    .venv/bin/python bench/importtime.py --write    # and keeps it in bench/importtime.md

Figures vary with the machine and its load; which modules load does not.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from core.routing import SERVICES, ServiceRoutes

REPO_ROOT = Path(__file__).resolve().parents[1]
REPORT = REPO_ROOT / "bench" / "importtime.md"
TOP = 12
SAMPLES = 3
# Imported where first used, never at cold start: boto3/botocore (the first AWS call),
# Mangum (the first HTTP event), httpx (svc-coupons' first call to svc-merchants),
# Strawberry (the first GraphQL request), Alembic (the migrate action).
KEPT_OFF = ("boto3", "botocore", "mangum", "httpx", "strawberry", "alembic")

PROBE = "import importlib.util, sys; spec = importlib.util.spec_from_file_location('main', sys.argv[1]); spec.loader.exec_module(importlib.util.module_from_spec(spec))"  # noqa: E501
LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")


def _sample(service: ServiceRoutes, state: Path) -> dict[str, int]:
    """Microseconds spent importing each top-level package's modules (their own time)."""
    environment = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none",
        "LOCAL_STATE_DIR": str(state),
    }
    main = REPO_ROOT / "services" / service.directory / "main.py"
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-X", "importtime", "-c", PROBE, str(main)],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    found: dict[str, int] = {}
    for line in done.stderr.splitlines():
        match = LINE.match(line)
        if match:
            package = match.group(2).split(".")[0]
            found[package] = found.get(package, 0) + int(match.group(1))
    return found


def _loaded(service: ServiceRoutes, state: Path) -> set[str]:
    environment = {**os.environ, "ENVIRONMENT": "test", "LOCAL_STATE_DIR": str(state)}
    main = REPO_ROOT / "services" / service.directory / "main.py"
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", PROBE + "; print(' '.join(sys.modules))", str(main)],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
    )
    return {name.split(".")[0] for name in done.stdout.split()}


def report() -> str:
    lines = [
        "# Cold-start imports per Lambda handler",
        "",
        f"`python bench/importtime.py --write`, Python {sys.version.split()[0]}, "
        f"median of {SAMPLES} fresh interpreters, bytecode cached.",
        "",
    ]
    with tempfile.TemporaryDirectory() as state:
        for service in SERVICES:
            samples: dict[str, list[int]] = defaultdict(list)
            for _ in range(SAMPLES):
                for package, micros in _sample(service, Path(state)).items():
                    samples[package].append(micros)
            median = {p: sorted(v)[len(v) // 2] for p, v in samples.items()}
            total = sum(median.values())
            loaded = _loaded(service, Path(state))
            lines += [
                f"## {service.directory}: {total / 1000:.0f} ms",
                "",
                "| package | ms | share |",
                "| --- | ---: | ---: |",
            ]
            for package, micros in sorted(median.items(), key=lambda kv: -kv[1])[:TOP]:
                lines.append(f"| {package} | {micros / 1000:.1f} | {micros / total:.0%} |")
            stayed_off = [name for name in KEPT_OFF if name not in loaded]
            came = [name for name in KEPT_OFF if name in loaded]
            lines += [
                "",
                f"Not imported at cold start: {', '.join(stayed_off) or 'none'}.",
                f"Imported although kept off: {', '.join(came) or 'none'}.",
                "",
            ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"keep it in {REPORT.name}")
    args = parser.parse_args()
    text = report()
    print(text)
    if args.write:
        REPORT.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
