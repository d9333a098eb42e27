"""What the platform's HTTP answers take from the client's headers: nothing of Host."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

BASE_URL = "http://testserver"

# Each a route's path with one slash too many (Starlette redirected these to the slashless
# path, as an absolute URL on the request's Host).
SLASHED = {
    "auth": ["/api/v1/auth/me/", "/api/v1/auth/register/", "/api/v1/auth/users/"],
    "merchants": ["/api/v1/merchants/", "/api/v1/merchants/health/"],
    "coupons": ["/api/v1/campaigns/", "/api/v1/wallet/", "/api/v1/coupons/claim/"],
}
GRAPHQL_SLASHED = [f"/graphql/{name}/" for name in SLASHED]


def assert_nothing_of_the_host(response: httpx.Response) -> None:
    assert response.status_code == 404, (response.request.url, response.headers)
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "not_found"
    assert "location" not in response.headers
    assert not any("evil" in value for value in response.headers.values())


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_no_service_builds_a_url_from_the_host_header(
    platform_apps: dict[str, Any], method: str
) -> None:
    for name, paths in SLASHED.items():
        transport = httpx.ASGITransport(app=platform_apps[name])
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
            for path in [*paths, f"/graphql/{name}/"]:
                asked = await http.request(method, path, headers={"Host": "evil.example"})
                assert_nothing_of_the_host(asked)


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_nor_does_the_gateway(gateway: httpx.AsyncClient, method: str) -> None:
    for path in [*(p for paths in SLASHED.values() for p in paths), *GRAPHQL_SLASHED]:
        asked = await gateway.request(method, path, headers={"Host": "evil.example"})
        assert_nothing_of_the_host(asked)
