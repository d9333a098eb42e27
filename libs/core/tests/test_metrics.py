"""The metrics recorder and its two readers: EMF for CloudWatch, Prometheus text locally."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI

from core.aws_lambda.handler import ServiceLambdaHandler, UnknownEventError
from core.metrics import emf, prometheus
from core.metrics.recorder import MetricsRecorder, status_class


def _recorder(*, publishing: bool = True) -> MetricsRecorder:
    recorder = MetricsRecorder("coupons", namespace="CouponPlatform/dev")
    recorder.publishing = publishing
    return recorder


def _flushed(recorder: MetricsRecorder) -> list[dict[str, Any]]:
    written: list[str] = []
    assert emf.flush(recorder, write=written.append) >= 0
    return [json.loads(line) for chunk in written for line in chunk.splitlines()]


@pytest.mark.parametrize(
    ("status", "expected"), [(200, "2xx"), (201, "2xx"), (302, "3xx"), (409, "4xx"), (503, "5xx")]
)
def test_status_classes(status: int, expected: str) -> None:
    assert status_class(status) == expected


def test_emf_documents_hold_what_was_recorded_since_the_last_flush() -> None:
    recorder = _recorder()
    route = "POST /api/v1/coupons/{code}/redeem"
    recorder.request(route, 200, 12.5)
    recorder.request(route, 201, 7.5)
    recorder.request(route, 409, 3.0)
    recorder.business_event("Redemption")
    recorder.outbox_swept(lag_seconds=42.0, dead_lettered=2)

    documents = _flushed(recorder)
    latency = {(d["Route"], d["StatusClass"]): d["Latency"] for d in documents if "Latency" in d}
    assert latency == {(route, "2xx"): [12.5, 7.5], (route, "4xx"): [3.0]}
    (business,) = [d for d in documents if "BusinessEvents" in d]
    assert business["_aws"]["CloudWatchMetrics"] == [
        {
            "Namespace": "CouponPlatform/dev",
            "Dimensions": [["Service", "Event"]],
            "Metrics": [{"Name": "BusinessEvents", "Unit": "Count"}],
        }
    ]
    assert (business["Service"], business["Event"], business["BusinessEvents"]) == (
        "coupons",
        "Redemption",
        1,
    )
    (outbox,) = [d for d in documents if "OutboxLagSeconds" in d]
    assert (outbox["OutboxLagSeconds"], outbox["OutboxDeadLettered"]) == (42.0, 2)
    assert all(isinstance(d["_aws"]["Timestamp"], int) for d in documents)
    assert _flushed(recorder) == []


def test_a_document_holds_at_most_100_values_of_a_metric() -> None:
    recorder = _recorder()
    for value in range(250):
        recorder.request("GET /api/v1/wallet", 200, float(value))
    sizes = [len(d["Latency"]) for d in _flushed(recorder)]
    assert sizes == [100, 100, 50]


def test_a_server_that_never_flushes_keeps_totals_only() -> None:
    recorder = _recorder(publishing=False)
    for _ in range(1000):
        recorder.request("GET /api/v1/wallet", 200, 1.0)
    recorder.business_event("Claim")
    assert recorder.drain().latency == {}
    assert recorder.latency[("GET /api/v1/wallet", "2xx")].count == 1000
    assert recorder.business == {"Claim": 1}


def test_prometheus_text_shows_the_totals() -> None:
    recorder = _recorder(publishing=False)
    recorder.request("GET /api/v1/coupons/{code}", 200, 7.0)
    recorder.request("GET /api/v1/coupons/{code}", 200, 700.0)
    recorder.business_event("Claim", 3)
    recorder.outbox_swept(lag_seconds=0.0, dead_lettered=0)
    page = prometheus.render([recorder])
    labels = 'service="coupons",route="GET /api/v1/coupons/{code}",status_class="2xx"'
    # Base units: seconds in the name, the bucket bounds and the sum.
    duration = "http_request_duration_seconds"
    assert f'{duration}_bucket{{{labels},le="0.005"}} 0' in page
    assert f'{duration}_bucket{{{labels},le="0.01"}} 1' in page
    assert f'{duration}_bucket{{{labels},le="1"}} 2' in page
    assert f'{duration}_bucket{{{labels},le="+Inf"}} 2' in page
    assert f"{duration}_count{{{labels}}} 2" in page
    assert f"{duration}_sum{{{labels}}} 0.707000" in page
    assert "_ms" not in page
    assert 'business_events_total{service="coupons",event="Claim"} 3' in page
    assert 'outbox_lag_seconds{service="coupons"} 0' in page


def test_the_lambda_handler_writes_an_invocations_metrics_to_standard_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = _recorder(publishing=False)
    relay = SimpleNamespace(mode="background")
    app = FastAPI()
    app.state.runtime = SimpleNamespace(name="coupons", relay=relay, metrics=recorder)
    handler = ServiceLambdaHandler(app, service_dir=tmp_path)
    try:
        recorder.business_event("Claim")  # before any invocation: not for CloudWatch
        with pytest.raises(UnknownEventError):
            handler({"neither": "http nor an action"}, None)
        assert capsys.readouterr().out == ""
        recorder.business_event("Claim")
        with pytest.raises(UnknownEventError):  # even an invocation that failed
            handler({"neither": "http nor an action"}, None)
    finally:
        handler._loop.close()
    (line,) = capsys.readouterr().out.splitlines()
    document = json.loads(line)
    assert (document["Event"], document["BusinessEvents"]) == ("Claim", 1)
