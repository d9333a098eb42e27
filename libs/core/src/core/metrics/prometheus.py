"""The same metrics as Prometheus text, for a developer's local stack (`/metrics` of each
service): totals since the process started, where CloudWatch keeps each flush apart.

Names follow Prometheus' conventions: base units (seconds, not milliseconds) named in a
suffix, `_total` on counters. The recorder keeps milliseconds, as CloudWatch receives them
(its `Latency` metric declares the unit, and the alarms' thresholds are written in it), so
durations are converted here.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.metrics.recorder import LATENCY_BUCKETS_MS, MetricsRecorder

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items()) + "}"


REQUEST_DURATION = "http_request_duration_seconds"
_MS_PER_SECOND = 1000


def render(recorders: Iterable[MetricsRecorder]) -> str:
    lines = [
        f"# HELP {REQUEST_DURATION} Duration of HTTP requests by route template and status class.",
        f"# TYPE {REQUEST_DURATION} histogram",
    ]
    recorders = list(recorders)
    for recorder in recorders:
        for (route, status_class), histogram in sorted(recorder.latency.items()):
            base = {"service": recorder.service, "route": route, "status_class": status_class}
            cumulative = 0
            for bound, count in zip(LATENCY_BUCKETS_MS, histogram.buckets, strict=False):
                cumulative += count
                labels = _labels(**base, le=f"{bound / _MS_PER_SECOND:g}")
                lines.append(f"{REQUEST_DURATION}_bucket{labels} {cumulative}")
            labels = _labels(**base, le="+Inf")
            seconds = histogram.total / _MS_PER_SECOND
            lines.append(f"{REQUEST_DURATION}_bucket{labels} {histogram.count}")
            lines.append(f"{REQUEST_DURATION}_sum{_labels(**base)} {seconds:.6f}")
            lines.append(f"{REQUEST_DURATION}_count{_labels(**base)} {histogram.count}")
    lines += [
        "# HELP business_events_total What the services did for the business.",
        "# TYPE business_events_total counter",
    ]
    for recorder in recorders:
        for event, count in sorted(recorder.business.items()):
            labels = _labels(service=recorder.service, event=event)
            lines.append(f"business_events_total{labels} {count}")
    lines += [
        "# HELP outbox_lag_seconds Age of the oldest undelivered event after the last sweep.",
        "# TYPE outbox_lag_seconds gauge",
    ]
    for recorder in recorders:
        if recorder.outbox_lag_seconds is not None:
            labels = _labels(service=recorder.service)
            lines.append(f"outbox_lag_seconds{labels} {recorder.outbox_lag_seconds:g}")
    lines += [
        "# HELP outbox_dead_lettered_total Outbox events the sweep gave up on.",
        "# TYPE outbox_dead_lettered_total counter",
    ]
    for recorder in recorders:
        labels = _labels(service=recorder.service)
        lines.append(f"outbox_dead_lettered_total{labels} {recorder.outbox_dead_lettered}")
    return "\n".join(lines) + "\n"
