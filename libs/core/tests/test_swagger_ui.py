"""Swagger UI's page loads only what the service itself serves (core.web.docs)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from core.web.docs import SWAGGER_UI_ASSETS, SWAGGER_UI_VERSION, swagger_ui_routes
from core.web.problems import install_problem_handlers

BASE = "/api/v1/things"


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI(title="Things", openapi_url=f"{BASE}/openapi.json", docs_url=None)
    install_problem_handlers(app)
    app.router.routes.extend(
        swagger_ui_routes(
            app, BASE, init_oauth={"clientId": "customer-portal"}, parameters={"a": True}
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        yield client


def _loaded_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


async def test_the_page_loads_its_script_style_and_icon_from_the_service(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get(f"{BASE}/docs")
    assert page.status_code == 200
    urls = _loaded_urls(page.text)
    assert sorted(url.rsplit("/", 1)[1] for url in urls) == sorted(SWAGGER_UI_ASSETS)
    assert "cdn" not in page.text.lower()
    for url in urls:
        assert url.startswith(f"{BASE}/docs/assets/{SWAGGER_UI_VERSION}/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"] == SWAGGER_UI_ASSETS[url.rsplit("/", 1)[1]]
        assert "immutable" in asset.headers["cache-control"]
        assert len(asset.content) > 500
    assert f"url: '{BASE}/openapi.json'" in page.text
    assert f"oauth2RedirectUrl: window.location.origin + '{BASE}/docs/oauth2-redirect'" in page.text
    assert 'ui.initOAuth({"clientId": "customer-portal"})' in page.text


async def test_the_oauth2_redirect_page_is_served_beside_it(client: httpx.AsyncClient) -> None:
    redirect = await client.get(f"{BASE}/docs/oauth2-redirect")
    assert redirect.status_code == 200
    assert "oauth2" in redirect.text.lower()


@pytest.mark.parametrize(
    "path",
    [
        f"/docs/assets/{SWAGGER_UI_VERSION}/swagger-ui.js.map",
        f"/docs/assets/{SWAGGER_UI_VERSION}/index.html",
        f"/docs/assets/{SWAGGER_UI_VERSION}/..%2F..%2F__init__.py",
        "/docs/assets/0.0.1/swagger-ui-bundle.js",
    ],
)
async def test_nothing_else_of_the_package_is_served(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(BASE + path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
