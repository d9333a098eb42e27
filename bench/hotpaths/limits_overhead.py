"""What svc-coupons' per-caller limits add to a request, timed directly in this process.

The limits add two things (core.caller_limits): on the request's path, `CallerLimit.take`,
a tally in the process's memory; off it, one update of the shared DynamoDB counter per
caller and process at most every `max_lag_seconds` (a second) or every tenth of the
ceiling. Timing them alone, in one process with nothing else running in it, resolves
fractions of a percent, where two servers' CPU per request under wrk differ by more than
that from round to round (LimitsCost prints that cross-check beside it).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from core.caller_limits import CallerLimit
from core.config import PlatformSettings
from core.dynamo import DynamoClientFactory, WindowCounter, ensure_tables

TAKES = 200_000
UPDATES = 200
CALLER = "bench-caller"


class _AnsweringCounter:
    """A shared counter that answers at once: `take` alone is timed."""

    async def increment(self, key: str, amount: int) -> tuple[int, int]:
        return amount, 0


def take_seconds() -> float:
    """CPU of one `take` on a caller's tally, as every limited request makes it."""
    limit = CallerLimit(
        _AnsweringCounter(),  # type: ignore[arg-type]
        ceiling=10**9,
        window_seconds=60,
        sync_every=10**9,
        max_lag_seconds=3600.0,
    )
    start = time.process_time()
    for _ in range(TAKES):
        limit.take(CALLER)
    return (time.process_time() - start) / TAKES


def update_seconds() -> float:
    """CPU of one update of the shared counter: boto3's client and, in this process too,
    moto's in-memory DynamoDB answering it (so an upper bound of what the platform's
    process spends on it)."""
    from moto import mock_aws

    variables = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        with mock_aws():
            settings = PlatformSettings(dynamodb_endpoint_url=None)
            factory = DynamoClientFactory(settings)
            ensure_tables(factory(), settings)
            counter = WindowCounter(
                factory, settings.cache_table, prefix="bench", window_seconds=60
            )
            counter._increment(
                CALLER, 1, time.time()
            )  # the client's first call builds its machinery
            start = time.process_time()
            for _ in range(UPDATES):
                counter._increment(CALLER, 1, time.time())
            return (time.process_time() - start) / UPDATES
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@dataclass(frozen=True)
class LimitsOverhead:
    take_ms: float  # per request
    update_ms: float  # per update: at most one a second per caller and process

    @classmethod
    def measure(cls) -> LimitsOverhead:
        return cls(take_seconds() * 1000, update_seconds() * 1000)

    def share(self, server_ms: float, requests_per_second: float) -> float:
        """What the limits add to a request whose server CPU is `server_ms`, at a rate of
        `requests_per_second` from one caller: the take, and the second's update spread
        over the second's requests."""
        per_request = self.take_ms + self.update_ms / max(requests_per_second, 1.0)
        return per_request / server_ms

    def note(self, server_ms: float, requests_per_second: float, target: float) -> str:
        share = self.share(server_ms, requests_per_second)
        return (
            f"per-caller limits, timed directly: take {self.take_ms * 1000:.2f} us a request, "
            f"a counter update {self.update_ms:.2f} ms a second, against "
            f"{server_ms:.3f} ms at {requests_per_second:.0f}/s: {share:.2%} of a request's "
            f"CPU; target < {target:.0%}: " + ("PASS" if share < target else "MISS")
        )
