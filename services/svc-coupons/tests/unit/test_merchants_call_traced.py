"""svc-coupons' calls to svc-merchants are X-Ray subsegments of a sampled invocation."""

from __future__ import annotations

import httpx
import pytest

from core import correlation
from devstack.testing.xray import sampled_invocation
from svc_coupons.repositories.merchant_directory import MerchantsHttp


async def test_a_call_to_svc_merchants_is_a_subsegment(monkeypatch: pytest.MonkeyPatch) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-correlation-id"] == "Xk3fJhT-IAMEV8Q="
        return httpx.Response(404)

    http = MerchantsHttp(
        base_url="http://merchants", timeout=1.0, transport=httpx.MockTransport(answer)
    )
    token = correlation.correlation_id.set("Xk3fJhT-IAMEV8Q=")
    try:
        with sampled_invocation(monkeypatch) as daemon:
            assert await http.get("/api/v1/merchants/7", authorization=None) is None
            (call,) = daemon.received()
    finally:
        correlation.correlation_id.reset(token)
    assert call["name"] == "svc-merchants"
    assert call["http"] == {
        "request": {"method": "GET", "url": "/api/v1/merchants/7"},
        "response": {"status": 404},
    }
