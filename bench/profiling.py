"""Where the platform's CPU per request goes: py-spy samples taken under load, sorted into
phases (`coupons_bench.py --profile`).

py-spy (a PyPI package, not a dependency of the project) is installed on first use into
.local/bench-tools. It samples a server process 200 times a second, without stopping
it (--nonblocking), while the platform's rounds of a scenario run; each sample goes to the
phase of its deepest frame that names one (the SQL a repository runs counts as SQL even
when the endpoint called it). The shares times the scenario's server CPU per request give
milliseconds per request. Sampling costs the platform a little CPU of its own: a profiled
run's rates are not the ones to compare.
"""

from __future__ import annotations

import contextlib
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

LOCAL_DIR = Path(__file__).resolve().parents[1] / ".local"
TOOLS_DIR = LOCAL_DIR / "bench-tools"
RATE = 200  # samples per second

# (phase, pattern of a frame "function (path:line)"): the deepest matching frame wins, and
# the first pattern that matches a frame names its phase.
PHASES: tuple[tuple[str, str], ...] = (
    ("event writing (outbox relay, audit trail)", r"core/events/|botocore/|boto3/|urllib3/"),
    ("metrics", r"core/metrics/|core/web/metrics"),
    ("logging (the access log line)", r"logging/__init__|core/logging|console_logs"),
    ("token verification", r"core/auth/tokens|jose/|core/auth/principal|cryptography/"),
    (
        "response: DTO, validation, serialization",
        r"serialize_response|jsonable_encoder|pydantic|JSONResponse|starlette/responses"
        r"|controllers/dto/|json/encoder|_prepare_response_content",
    ),
    ("SQL and driver", r"asyncpg/|sqlalchemy/|core/database/|repositories/"),
    (
        "dependency resolution (FastAPI)",
        r"solve_dependencies|request_body_to_args|_extract_form|controllers/dependencies"
        r"|core/auth/dependencies|fastapi/dependencies",
    ),
    ("endpoint and service code", r"controllers/rest/|/services/|run_endpoint_function"),
    ("route: unit of work, idempotency", r"core/web/routes|unit_of_work|core/idempotency"),
    ("request ids, metrics and access log call", r"core/web/middleware|core/correlation"),
    (
        "gateway, CORS, Starlette/FastAPI middleware and routing",
        r"devstack/gateway|devstack/cors|starlette/|fastapi/",
    ),
    ("server: uvicorn, HTTP parsing, socket writes", r"uvicorn/|httptools"),
    ("event loop (uvloop, native)", r"Runner\.run|uvloop|^$"),
)
_COMPILED = [(name, re.compile(pattern)) for name, pattern in PHASES]
# A thread waiting (for the database, for another thread) that py-spy took for busy: the
# standard event loop's select on a thread of its own, a condition variable.
_WAITING = re.compile(r"^(EpollSelector\.select|Condition\.wait|Event\.wait) ")
OTHER = "other"


def ensure_py_spy() -> str:
    """py-spy's path, installed into .local/bench-tools with pip on first use."""
    binary = TOOLS_DIR / "bin" / "py-spy"
    if not binary.exists():
        # The project's virtualenv has no pip (uv made it); the Makefile's own uv
        # bootstrap has one, else the interpreter's.
        bootstrap = LOCAL_DIR / "uv" / "bin" / "pip"
        pip = [str(bootstrap)] if bootstrap.exists() else [sys.executable, "-m", "pip"]
        subprocess.run(  # noqa: S603
            [*pip, "install", "--quiet", "--target", str(TOOLS_DIR), "py-spy"], check=True
        )
    return str(binary)


def phase_of(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, pattern in _COMPILED:
            if pattern.search(frame):
                return name
    return OTHER


def phases(lines: Iterable[str]) -> Counter[str]:
    """Samples per phase, from py-spy's raw (collapsed) output: `frame;frame;... count`.
    Worker threads waiting for work are idle, not load: left out."""
    found: Counter[str] = Counter()
    for line in lines:
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if _WAITING.match(frames[-1]):
            continue
        if "Thread._bootstrap" in frames[0] and not any("concurrent/futures" in f for f in frames):
            continue
        found[phase_of(frames)] += int(count)
    return found


class Sampler:
    """py-spy recording one process while a round runs."""

    def __init__(self, py_spy: str, pid: int, output: Path) -> None:
        self.output = output
        self._process = subprocess.Popen(  # noqa: S603
            [
                py_spy,
                "record",
                "-p",
                str(pid),
                "-r",
                str(RATE),
                "-f",
                "raw",
                "-o",
                str(output),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> Counter[str]:
        """Stop sampling (as Ctrl-C does: py-spy writes what it has); the samples by phase."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        with contextlib.suppress(OSError):
            return phases(self.output.read_text().splitlines())
        return Counter()


def columns(samples: dict[str, Counter[str]], cpu_ms: dict[str, float]) -> list[str]:
    """A breakdown per server side by side: each phase's milliseconds per request."""
    names = [name for name, _ in PHASES] + [OTHER]
    busy = {key: sum(counted.values()) for key, counted in samples.items()}
    keys = [key for key in samples if busy[key]]
    lines = [f"{'ms per request':<56}" + "".join(f"{key:>10}" for key in keys)]
    for name in names:
        if not any(samples[key][name] for key in keys):
            continue
        lines.append(
            f"{name:<56}"
            + "".join(f"{samples[key][name] / busy[key] * cpu_ms[key]:>10.3f}" for key in keys)
        )
    lines.append(
        f"{'total (server CPU/request)':<56}" + "".join(f"{cpu_ms[k]:>10.3f}" for k in keys)
    )
    return lines


def table(samples: Counter[str], cpu_ms: float) -> list[str]:
    """Lines of a breakdown: each phase's share of the busy samples, and its milliseconds
    per request at `cpu_ms` of server CPU per request."""
    busy = sum(n for name, n in samples.items())
    if not busy:
        return ["(no samples)"]
    names = [name for name, _ in PHASES] + [OTHER]
    return [
        f"{name:<56}{samples[name] / busy:>6.0%}{samples[name] / busy * cpu_ms:>8.3f} ms"
        for name in names
        if samples[name]
    ]
