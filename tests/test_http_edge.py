"""The platform's HTTP edge, service by service and through the gateway: what answers take
from the client's headers (nothing of Host), page sizes alike over REST and GraphQL, and
which answers no cache may keep."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from devstack.testing.api import bearer
from devstack.testing.tokens import TestTokens

if TYPE_CHECKING:
    from conftest import Scene

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


# Each service's list over REST and its GraphQL twin, as an admin may ask both.
LISTS = [
    ("/api/v1/auth/users", "/graphql/auth", "users"),
    ("/api/v1/merchants", "/graphql/merchants", "merchants"),
    ("/api/v1/campaigns", "/graphql/coupons", "campaigns"),
]


@pytest.mark.parametrize(("rest", "graphql", "field"), LISTS)
async def test_graphql_refuses_the_page_sizes_rest_refuses(
    gateway: httpx.AsyncClient, tokens: TestTokens, rest: str, graphql: str, field: str
) -> None:
    admin = bearer(tokens.admin())
    query = f"query ($limit: Int!, $cursor: String) {{ {field}(limit: $limit, cursor: $cursor) "
    query += "{ nextCursor } }"
    for limit, cursor in ((0, None), (-1, None), (101, None), (10**9, None), (20, "A" * 501)):
        by_rest = await gateway.get(
            rest, params={"limit": limit, **({"cursor": cursor} if cursor else {})}, headers=admin
        )
        assert by_rest.status_code == 422, (rest, limit)
        assert by_rest.json()["code"] == "invalid_input"
        by_graphql = (
            await gateway.post(
                graphql,
                json={"query": query, "variables": {"limit": limit, "cursor": cursor}},
                headers=admin,
            )
        ).json()
        assert by_graphql["data"] is None, (graphql, limit)
        assert by_graphql["errors"][0]["extensions"] == {"code": "invalid_input", "status": 422}
    assert (await gateway.get(rest, params={"limit": 100}, headers=admin)).status_code == 200
    full = await gateway.post(
        graphql, json={"query": query, "variables": {"limit": 100}}, headers=admin
    )
    assert "errors" not in full.json()


async def test_answers_to_a_caller_who_signed_in_are_not_stored(
    gateway: httpx.AsyncClient, scene: Scene
) -> None:
    customer = await scene.customer("cache@example.com")
    coupon = await scene.claim(customer)
    personal = [
        await gateway.get("/api/v1/auth/me", headers=customer),
        await gateway.get("/api/v1/wallet", headers=customer),
        await gateway.get(f"/api/v1/coupons/{coupon['code']}", headers=customer),
        await gateway.get("/api/v1/transfers", headers=customer),
        await gateway.get("/api/v1/exchange/listings", params={"mine": True}, headers=customer),
        await gateway.post(
            "/graphql/coupons", json={"query": "{ wallet { nextCursor } }"}, headers=customer
        ),
        await gateway.post("/graphql/auth", json={"query": "{ me { email } }"}, headers=customer),
        await gateway.get("/api/v1/campaigns", headers=customer),  # public, but asked as someone
    ]
    for answer in personal:
        assert answer.status_code == 200, (answer.request.url, answer.text)
        assert answer.headers["cache-control"] == "no-store", answer.request.url
    # Anonymous answers are everyone's; an answer's own Cache-Control stands.
    assert "cache-control" not in (await gateway.get("/api/v1/campaigns")).headers
    jwks = await gateway.get("/.well-known/jwks.json", headers=customer)
    assert jwks.headers["cache-control"] == "public, max-age=300"
