"""Measuring: a scenario's sides (server and requests), wrk runs checked against their
answers and the database, warm-up and alternating rounds, and the median figures."""

from __future__ import annotations

import functools
import math
import os
import statistics
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from loadgen import CpuWatch, HttpRequest, LoadError, WrkRun, run_wrk
from profiling import Sampler

from hotpaths.base import BenchError, progress
from hotpaths.database import events_delivered
from hotpaths.limits_overhead import LimitsOverhead
from hotpaths.servers import Server

CONNECTIONS = 32
WARMUP_SECONDS = 1
WARMUP_WRITES = 200
EXCHANGE_WARMUP = 32
ROUNDS = 3
# Lookup and claim also run on the platform without per-caller limits, for more rounds: the
# limits' cost is the median of each round's CPU per request with them over without.
LIMITS_ROUNDS = 5
LIMITS_COST_TARGET = 0.05
MAX_ITEMS = 40_000  # a write round's requests, at most


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
    # Two more platforms, serving none of the set-up and alike in all but the per-caller
    # limits (on, off): what the limits cost is measured between them.
    limited: Server
    unlimited: Server
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
        platforms = (self.platform, self.limited, self.unlimited)
        settle = (lambda: events_delivered(self.db)) if server in platforms else None
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
        rounds: int = ROUNDS,
    ) -> dict[str, list[WrkRun]]:
        """A warm-up, then `rounds` rounds per server, who goes first rotating. Write runs
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
        for round_ in range(rounds):
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


READ_OK = frozenset({"200"})


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


@functools.cache
def limits_overhead() -> LimitsOverhead:
    return LimitsOverhead.measure()


@dataclass(frozen=True)
class LimitsCost:
    """What svc-coupons' per-caller limits cost a scenario. The verdict is their work timed
    directly (hotpaths.limits_overhead) against the CPU per request of the platform with
    them. Beside it, a cross-check between two servers: each round pairs the run of the
    platform with limits with that of the platform without, of the same round (the two go
    one after the other in most rounds), neither of which served any of the set-up. Two
    processes' CPU per request differs from round to round by more than the limits cost,
    so that pair shows only that nothing larger hides there."""

    cpu: list[float]  # per round: CPU per request with limits / without, minus one
    rate: list[float]  # per round: requests/s with limits / without
    direct: float  # the limits' own CPU, a share of a limited request's
    direct_note: str

    @classmethod
    def of(cls, runs: Mapping[str, Sequence[WrkRun]]) -> LimitsCost:
        pairs = list(zip(runs["limited"], runs["unlimited"], strict=True))
        limited = Figures.of(runs["limited"])
        overhead = limits_overhead()
        return cls(
            [on.server_ms_per_request / off.server_ms_per_request - 1 for on, off in pairs],
            [on.per_second / off.per_second for on, off in pairs],
            overhead.share(limited.server_ms, limited.rate),
            overhead.note(limited.server_ms, limited.rate, LIMITS_COST_TARGET),
        )

    @property
    def met(self) -> bool:
        return self.direct < LIMITS_COST_TARGET

    def notes(self) -> list[str]:
        rounds = ", ".join(f"{c:+.1%}" for c in self.cpu)
        return [
            self.direct_note,
            f"cross-check, two servers alike but for the limits: server CPU/request "
            f"{statistics.median(self.cpu):+.1%} (median of {len(self.cpu)} paired rounds: "
            f"{rounds}), requests/s x{statistics.median(self.rate):.2f}",
        ]


def with_limits_pair(sides: Mapping[str, Side], limited: Side, unlimited: Side) -> dict[str, Side]:
    """A scenario's sides with the two platforms that measure the limits' cost after the
    platform, one right after the other."""
    return {"platform": sides["platform"], "limited": limited, "unlimited": unlimited} | dict(sides)


def ratio_verdict(target: float) -> Callable[[dict[str, Figures]], bool]:
    return lambda f: f["platform"].rate / f["bare"].rate >= target
