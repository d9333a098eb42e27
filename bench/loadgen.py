"""HTTP load from wrk (C, one thread), with the CPU of everyone involved accounted for.

Python clients cost about 1 ms of CPU per request (httpx), more than a bare app's whole
request: they would measure themselves. wrk costs a few microseconds per request; its own
CPU is read from the kernel (wait4) and reported, and a run in which it used 90% of its
core or more says so (`client_saturated`): its rate says nothing about the server.

wrk is Debian's package; `ensure_wrk` installs it with apt-get when it is missing.
Requests are written out in full beforehand (`HttpRequest.encode`), one file per run;
`bench/wrk_load.lua` sends them round and round (`cycle`, for reads, for a duration) or
each exactly once (`once`, for writes: the run ends with the last answer, so every
request sent was answered and the database's counts can be checked against the answers).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
LUA_SCRIPT = BENCH_DIR / "wrk_load.lua"
TICKS = os.sysconf("SC_CLK_TCK")
CPUS = os.cpu_count() or 1
SATURATED = 0.9  # of wrk's one core: beyond it, the client may be what limits the rate


class LoadError(RuntimeError):
    """wrk could not be found, installed or run, or its run went wrong."""


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package first when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise LoadError("wrk is missing: install it (Debian: apt-get install wrk)")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    installed = subprocess.run(  # noqa: S603
        [apt, "install", "-y", "-q", "wrk"], env=env, capture_output=True, check=False
    )
    if installed.returncode != 0:
        subprocess.run([apt, "update", "-q"], env=env, capture_output=True, check=False)  # noqa: S603
        installed = subprocess.run(  # noqa: S603
            [apt, "install", "-y", "-q", "wrk"], env=env, capture_output=True, check=False
        )
    found = shutil.which("wrk")
    if found is None:
        raise LoadError(f"apt-get install wrk failed:\n{installed.stderr.decode()[-2000:]}")
    return found


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(
        cls, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> HttpRequest:
        data = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        extra = {"Content-Type": "application/json"} if body is not None else {}
        return cls(method, path, {**extra, **(headers or {})}, data)

    @classmethod
    def form(
        cls, path: str, fields: Mapping[str, str], headers: Mapping[str, str] | None = None
    ) -> HttpRequest:
        from urllib.parse import urlencode

        return cls(
            "POST",
            path,
            {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
            urlencode(fields).encode(),
        )

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        request = head + self.body
        if b"\0" in request:
            raise LoadError("a request holds a NUL byte: it cannot be written for wrk")
        return request


# --- CPU accounting --------------------------------------------------------------------------


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far, its threads included. Linux /proc; 0
    for a process that is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def children_of(pid: int) -> list[int]:
    """Every descendant of a process (the platform's DynamoDB server, for one)."""
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                for child in (task / "children").read_text().split():
                    found += [int(child), *children_of(int(child))]
    return found


def database_backends(database: str) -> list[int]:
    """The PostgreSQL backends serving `database` (their process title names it): the
    benchmark's own share of the database server, whoever else uses it."""
    marker = f" {database} ".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if (entry / "comm").read_bytes().strip() == b"postgres" and marker in (
                entry / "cmdline"
            ).read_bytes():
                pids.append(int(entry.name))
    return pids


def machine_busy_seconds() -> float:
    # The first line of /proc/stat: user nice system idle iowait irq softirq steal ...
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / TICKS


@dataclass
class CpuWatch:
    """CPU used between `start()` and `stop()`: by the server under test, by the rest of
    the benchmark (this process and every process it started: the idle servers, the
    platform's DynamoDB; and the database backends serving the benchmark's database), and
    by the machine as a whole. What is left is other work on the machine."""

    server_pid: int
    database: str
    server: float = 0.0
    own: float = 0.0
    busy: float = 0.0

    def _own_now(self) -> float:
        pids = {os.getpid(), *children_of(os.getpid()), *database_backends(self.database)}
        pids.discard(self.server_pid)
        return sum(process_cpu_seconds(pid) for pid in pids)

    def start(self) -> None:
        self.server = process_cpu_seconds(self.server_pid)
        self.own = self._own_now()
        self.busy = machine_busy_seconds()

    def stop(self, client_cpu: float) -> tuple[float, float]:
        """(server CPU seconds, other processes' CPU seconds) since start()."""
        server = process_cpu_seconds(self.server_pid) - self.server
        own = self._own_now() - self.own
        busy = machine_busy_seconds() - self.busy
        return server, max(busy - server - own - client_cpu, 0.0)


# --- a run -------------------------------------------------------------------------------------


@dataclass
class WrkRun:
    requests: int
    wall: float  # seconds
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    outcomes: Counter[str]  # "200", "409 sold_out", ...
    socket_errors: dict[str, int]
    client_cpu: float  # seconds of wrk's CPU
    server_cpu: float  # seconds of the server process's CPU
    foreign_cpu: float  # seconds of CPU other processes on the machine used meanwhile
    watched: float  # seconds the CPU was watched: the run, and its events' delivery

    @property
    def per_second(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    @property
    def server_ms_per_request(self) -> float:
        return self.server_cpu / self.requests * 1000 if self.requests else 0.0

    @property
    def client_ms_per_request(self) -> float:
        return self.client_cpu / self.requests * 1000 if self.requests else 0.0

    @property
    def client_share(self) -> float:
        """wrk's CPU as a share of its one thread's core."""
        return self.client_cpu / self.wall if self.wall else 0.0

    @property
    def client_saturated(self) -> bool:
        return self.client_share >= SATURATED

    @property
    def foreign_share(self) -> float:
        return self.foreign_cpu / (self.watched * CPUS) if self.watched else 0.0


def _wait_with_rusage(process: subprocess.Popen[bytes]) -> float:
    """Wait for wrk to end; the CPU seconds it used (the kernel's account of it)."""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


async def run_wrk(
    base_url: str,
    requests: Sequence[HttpRequest] | Iterable[HttpRequest],
    *,
    mode: str,
    connections: int,
    seconds: float,
    watch: CpuWatch,
    settle: Callable[[], Awaitable[object]] | None = None,
    request_timeout: float = 30.0,
) -> WrkRun:
    """One wrk run against `base_url`: `mode` cycle for `seconds`, or once (each request
    exactly once; `seconds` is then only the limit, and a run that reaches it fails).
    `settle`: awaited once wrk has ended, before the CPU is read (the platform's events
    of the run delivered: its CPU counts)."""
    wrk = ensure_wrk()
    host = base_url.split("://", 1)[1].rstrip("/")
    with tempfile.NamedTemporaryFile(prefix="bench-wrk-", suffix=".req", delete=False) as file:
        count = 0
        for request in requests:
            if count:
                file.write(b"\0")
            file.write(request.encode(host))
            count += 1
        path = file.name
    if count == 0:
        raise LoadError("no requests to send")
    limit = max(1, round(seconds))
    args = [
        *(wrk, "-t1", f"-c{connections}", f"-d{limit}s", f"--timeout={round(request_timeout)}s"),
        *("-s", str(LUA_SCRIPT), base_url, "--", path, mode),
    ]
    try:
        watch.start()
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603, ASYNC220 (waited for in a thread)
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        out_task = asyncio.create_task(asyncio.to_thread(process.stdout.read))  # type: ignore[union-attr]
        err_task = asyncio.create_task(asyncio.to_thread(process.stderr.read))  # type: ignore[union-attr]
        client_cpu = await asyncio.to_thread(_wait_with_rusage, process)
        elapsed = time.perf_counter() - started
        if settle is not None:
            await settle()
        watched = time.perf_counter() - started
        server_cpu, foreign = watch.stop(client_cpu)
        out, err = (await out_task).decode(), (await err_task).decode()
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        raise LoadError(f"wrk failed ({process.returncode}):\n{out[-2000:]}\n{err[-2000:]}")
    report = json.loads(lines[-1])
    if mode == "once" and elapsed >= limit:
        raise LoadError(f"{count} requests were not all answered within {limit} s")
    return WrkRun(
        requests=report["requests"],
        wall=report["duration_us"] / 1e6,
        p50_ms=report["p50_us"] / 1000,
        p90_ms=report["p90_us"] / 1000,
        p99_ms=report["p99_us"] / 1000,
        max_ms=report["max_us"] / 1000,
        outcomes=Counter(report["outcomes"]),
        socket_errors={name: report[f"{name}_errors"] for name in ("connect", "read", "write")}
        | {"timeout": report["timeouts"]},
        client_cpu=client_cpu,
        server_cpu=server_cpu,
        foreign_cpu=foreign,
        watched=watched,
    )
