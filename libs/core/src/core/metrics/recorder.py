"""A service's metrics in memory: recorded per request for a few dict updates, read by the
EMF flush (core.metrics.emf: the samples since the last flush) and the Prometheus page
(core.metrics.prometheus: totals since the process started).

One recorder per service runtime; everything runs on the event loop's thread, so nothing
is locked. Samples wait for a flush only once something flushes (`publishing`, set by the
Lambda handler): a long-running server keeps its totals and nothing else.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

from core.metrics import catalog

# Upper bounds of the latency histogram, in milliseconds as recorded (the Prometheus page
# shows them in seconds, core.metrics.prometheus).
LATENCY_BUCKETS_MS = (5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0)
_STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", catalog.SERVER_ERROR_CLASS)


def status_class(status: int) -> str:
    return _STATUS_CLASSES[min(max(status // 100, 1), 5) - 1]


@dataclass
class Histogram:
    """Totals since start: count, sum, and a count per bucket (not cumulative)."""

    count: int = 0
    total: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1))

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self.buckets[bisect_left(LATENCY_BUCKETS_MS, value)] += 1


@dataclass
class Pending:
    """What the next EMF flush publishes: the samples and counts since the last one."""

    latency: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    business: dict[str, int] = field(default_factory=dict)
    outbox_lag_seconds: float | None = None
    outbox_dead_lettered: int | None = None

    def __bool__(self) -> bool:
        return bool(
            self.latency
            or self.business
            or self.outbox_lag_seconds is not None
            or self.outbox_dead_lettered is not None
        )


class MetricsRecorder:
    def __init__(self, service: str, *, namespace: str) -> None:
        self.service = service
        self.namespace = namespace
        self.latency: dict[tuple[str, str], Histogram] = {}  # (route, status class)
        self.business: dict[str, int] = {}
        self.outbox_lag_seconds: float | None = None
        self.outbox_dead_lettered = 0
        self.publishing = False
        self._pending = Pending()

    def request(self, route: str, status: int, duration_ms: float) -> None:
        """One HTTP request: `route` is its template (`GET /api/v1/coupons/{coupon_id}`),
        never its path, which may hold a coupon's code."""
        key = (route, status_class(status))
        histogram = self.latency.get(key)
        if histogram is None:
            histogram = self.latency[key] = Histogram()
        histogram.add(duration_ms)
        if not self.publishing:
            return
        samples = self._pending.latency.get(key)
        if samples is None:
            self._pending.latency[key] = [duration_ms]
        else:
            samples.append(duration_ms)

    def business_event(self, event: str, count: int = 1) -> None:
        self.business[event] = self.business.get(event, 0) + count
        if self.publishing:
            self._pending.business[event] = self._pending.business.get(event, 0) + count

    def outbox_swept(self, *, lag_seconds: float, dead_lettered: int) -> None:
        """After each sweep: the age of the oldest event still undelivered (0: none), and
        how many events it gave up on."""
        self.outbox_lag_seconds = lag_seconds
        self.outbox_dead_lettered += dead_lettered
        if not self.publishing:
            return
        self._pending.outbox_lag_seconds = lag_seconds
        self._pending.outbox_dead_lettered = (self._pending.outbox_dead_lettered or 0) + (
            dead_lettered
        )

    def drain(self) -> Pending:
        """What was recorded since the last drain, handed over and forgotten."""
        pending, self._pending = self._pending, Pending()
        return pending
