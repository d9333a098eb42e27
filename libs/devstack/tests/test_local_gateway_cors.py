"""The local gateway answers portals' browsers as the HTTP API does in AWS."""

from __future__ import annotations

import httpx
from starlette.types import Receive, Scope, Send

from devstack.stack.cors import expand_origins, with_cors
from devstack.stack.gateway import LocalGateway


async def _hello(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def client() -> httpx.AsyncClient:
    app = with_cors(LocalGateway({"coupons": _hello}), expand_origins("http://localhost:3000-3002"))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")


def test_port_ranges_expand_and_plain_origins_stay() -> None:
    assert expand_origins("http://localhost:3000-3002, https://portal.example/") == [
        "http://localhost:3000",
        "http://localhost:3001",
        "http://localhost:3002",
        "https://portal.example",
    ]


async def test_a_portal_origin_gets_its_preflight_answered() -> None:
    async with client() as http:
        answer = await http.options(
            "/api/v1/wallet",
            headers={
                "Origin": "http://localhost:3001",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, idempotency-key",
            },
        )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "http://localhost:3001"
    allowed = answer.headers["access-control-allow-headers"].lower()
    assert "idempotency-key" in allowed
    assert "authorization" in allowed


async def test_answers_carry_the_exposed_headers_for_a_portal_only() -> None:
    async with client() as http:
        portal = await http.get("/api/v1/wallet", headers={"Origin": "http://localhost:3002"})
        stranger = await http.get("/api/v1/wallet", headers={"Origin": "http://evil.example"})
    assert portal.headers["access-control-allow-origin"] == "http://localhost:3002"
    assert "idempotent-replayed" in portal.headers["access-control-expose-headers"]
    assert "access-control-allow-origin" not in stranger.headers
