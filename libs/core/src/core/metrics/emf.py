"""CloudWatch embedded metric format: metrics as JSON log lines, which CloudWatch Logs
turns into metrics of the function's log group. Publishing costs a write to standard
output, no API call.

One document per set of dimension values (a route and status class, a business event, the
outbox); a metric holds up to 100 values per document, so a busy flush writes several.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from core.metrics import catalog
from core.metrics.recorder import MetricsRecorder, Pending

MAX_VALUES = 100  # EMF: values of one metric in one document


def _document(
    namespace: str,
    dimensions: tuple[tuple[str, ...], ...],
    metrics: dict[str, str],
    fields: dict[str, Any],
    timestamp_ms: int,
) -> dict[str, Any]:
    return {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [list(dimension_set) for dimension_set in dimensions],
                    "Metrics": [{"Name": name, "Unit": unit} for name, unit in metrics.items()],
                }
            ],
        },
        **fields,
    }


def documents(
    pending: Pending, *, service: str, namespace: str, timestamp_ms: int
) -> Iterator[dict[str, Any]]:
    """The EMF documents of what a recorder drained."""
    for (route, status_class), samples in pending.latency.items():
        for start in range(0, len(samples), MAX_VALUES):
            yield _document(
                namespace,
                catalog.LATENCY_DIMENSIONS,
                {catalog.LATENCY: "Milliseconds"},
                {
                    catalog.SERVICE: service,
                    catalog.ROUTE: route,
                    catalog.STATUS_CLASS: status_class,
                    catalog.LATENCY: samples[start : start + MAX_VALUES],
                },
                timestamp_ms,
            )
    for event, count in pending.business.items():
        yield _document(
            namespace,
            ((catalog.SERVICE, catalog.EVENT),),
            {catalog.BUSINESS_EVENTS: "Count"},
            {catalog.SERVICE: service, catalog.EVENT: event, catalog.BUSINESS_EVENTS: count},
            timestamp_ms,
        )
    if pending.outbox_lag_seconds is not None or pending.outbox_dead_lettered is not None:
        outbox: dict[str, str] = {}
        fields: dict[str, Any] = {catalog.SERVICE: service}
        if pending.outbox_lag_seconds is not None:
            outbox[catalog.OUTBOX_LAG] = "Seconds"
            fields[catalog.OUTBOX_LAG] = pending.outbox_lag_seconds
        if pending.outbox_dead_lettered is not None:
            outbox[catalog.OUTBOX_DEAD_LETTERED] = "Count"
            fields[catalog.OUTBOX_DEAD_LETTERED] = pending.outbox_dead_lettered
        yield _document(namespace, ((catalog.SERVICE,),), outbox, fields, timestamp_ms)


def flush(recorder: MetricsRecorder, write: Callable[[str], object] | None = None) -> int:
    """Write what the recorder holds as EMF lines (standard output by default: the
    function's log group); the number of documents written."""
    pending = recorder.drain()
    if not pending:
        return 0
    out = write or sys.stdout.write
    lines = [
        json.dumps(document, separators=(",", ":"))
        for document in documents(
            pending,
            service=recorder.service,
            namespace=recorder.namespace,
            timestamp_ms=int(time.time() * 1000),
        )
    ]
    out("\n".join(lines) + "\n")
    return len(lines)
