"""What every service serves besides its API: health, docs, the OpenAPI document."""

from __future__ import annotations

import httpx


async def test_health_docs_and_openapi(client: httpx.AsyncClient) -> None:
    health = await client.get("/api/v1/merchants/health")
    assert health.json() == {"status": "ok", "service": "merchants"}
    assert (await client.get("/api/v1/merchants/docs")).status_code == 200
    spec = (await client.get("/api/v1/merchants/openapi.json")).json()
    assert {
        "/api/v1/merchants",
        "/api/v1/merchants/{merchant_id}",
        "/api/v1/merchants/{merchant_id}/verify",
        "/api/v1/merchants/{merchant_id}/suspend",
        "/api/v1/merchants/{merchant_id}/reinstate",
        "/api/v1/merchants/{merchant_id}/outlets",
        "/api/v1/merchants/{merchant_id}/outlets/{outlet_id}",
    } <= set(spec["paths"])
    assert set(spec["paths"]["/api/v1/merchants/{merchant_id}/outlets/{outlet_id}"]) == {
        "patch",
        "delete",
    }
