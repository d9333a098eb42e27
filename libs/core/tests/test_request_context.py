"""Request and correlation ids, and the metrics each request records (core.web.middleware)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from starlette.routing import Route

from core.correlation import accepted
from core.metrics.recorder import MetricsRecorder
from core.web.middleware import RequestContextMiddleware


async def _call(
    scope: dict[str, Any], *, status: int = 200, route: str | None = None
) -> tuple[dict[str, str], MetricsRecorder]:
    recorder = MetricsRecorder("coupons", namespace="CouponPlatform/test")
    seen: dict[str, str] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if route is not None:  # what routing leaves in the scope
            scope["route"] = Route(route, lambda request: None)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            seen.update({k.decode(): v.decode() for k, v in message["headers"]})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    base = {"type": "http", "method": "GET", "path": "/api/v1/coupons/ABCD-1234", "headers": []}
    await RequestContextMiddleware(app, metrics=recorder)({**base, **scope}, receive, send)
    return seen, recorder


async def test_in_lambda_the_correlation_id_is_api_gateways_request_id() -> None:
    """The id the API's access log records (`$context.requestId`), so its line and every
    log line and event of the request are found by one value."""
    headers, _ = await _call(
        {
            "aws.event": {"requestContext": {"requestId": "Xk3fJhT-IAMEV8Q="}},
            "aws.context": SimpleNamespace(aws_request_id="lambda-invocation-1"),
        }
    )
    assert headers["x-correlation-id"] == "Xk3fJhT-IAMEV8Q="
    assert headers["x-request-id"] == "lambda-invocation-1"


async def test_a_correlation_id_passed_on_by_a_caller_is_kept() -> None:
    headers, _ = await _call(
        {
            "headers": [(b"x-correlation-id", b"Xk3fJhT-IAMEV8Q=")],
            "aws.event": {"requestContext": {"requestId": "this-hop"}},
        }
    )
    assert headers["x-correlation-id"] == "Xk3fJhT-IAMEV8Q="


@pytest.mark.parametrize("value", ["", "a b", "x" * 129, "line\nbreak", '"quoted"'])
async def test_what_is_no_id_is_not_taken(value: str) -> None:
    assert accepted(value) is None
    headers, _ = await _call({"headers": [(b"x-correlation-id", value.encode())]})
    assert headers["x-correlation-id"] == headers["x-request-id"]


async def test_a_request_records_its_route_template_and_status_class() -> None:
    _, recorder = await _call({}, status=404, route="/api/v1/coupons/{code}")
    ((route, status_class),) = recorder.latency
    assert (route, status_class) == ("GET /api/v1/coupons/{code}", "4xx")
    assert recorder.latency[(route, status_class)].count == 1
    _, unmatched = await _call({}, status=404)
    assert list(unmatched.latency) == [("GET (unmatched)", "4xx")]
    # Never the path: a coupon's code is part of it.
    assert "ABCD-1234" not in repr(recorder.latency) + repr(unmatched.latency)
