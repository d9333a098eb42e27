"""Swagger UI served by each service itself, from the dist the swagger-ui-bundle-v2 package
ships: the docs page loads nothing from a CDN, so it works offline, behind a proxy that
blocks CDNs, and in the Lambda (whose bundle carries the same files, infra.bundle).

FastAPI's own docs route points the page at jsDelivr; this one serves the page, its
script, stylesheet and icon, and the OAuth2 redirect page, under the service's base path
(`/api/v1/{service}/docs...`), which the gateway and API Gateway already route to it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from swagger_ui_bundle import swagger_ui_path

SWAGGER_UI_DIST = Path(str(swagger_ui_path))

SWAGGER_UI_ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}
"""The dist's files the page loads, with their media types; nothing else is served (and
the Lambda bundle keeps nothing else of the package)."""

SWAGGER_UI_VERSION = SWAGGER_UI_DIST.name.removeprefix("swagger-ui-")
"""In the assets' URLs, so that a browser may keep them for good: a new dist is a new URL."""

_ASSETS_CACHE_CONTROL = "public, max-age=31536000, immutable"


@cache
def _asset(name: str) -> bytes:
    return (SWAGGER_UI_DIST / name).read_bytes()


def swagger_ui_routes(
    app: FastAPI,
    base: str,
    *,
    init_oauth: dict[str, Any],
    parameters: dict[str, Any],
) -> list[Route]:
    """`{base}/docs`, `{base}/docs/oauth2-redirect` and `{base}/docs/assets/{version}/{file}`,
    outside the OpenAPI document. The page's URLs carry the request's root path, as
    FastAPI's own docs route does."""
    assets = f"{base}/docs/assets/{SWAGGER_UI_VERSION}"
    redirect = f"{base}/docs/oauth2-redirect"

    async def page(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        assert app.openapi_url is not None
        return get_swagger_ui_html(
            openapi_url=root + app.openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{assets}/swagger-ui.css",
            swagger_favicon_url=f"{root}{assets}/favicon-32x32.png",
            oauth2_redirect_url=root + redirect,
            init_oauth=init_oauth,
            swagger_ui_parameters=parameters,
        )

    async def oauth2_redirect(_: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = SWAGGER_UI_ASSETS.get(name)
        if media_type is None or request.path_params["version"] != SWAGGER_UI_VERSION:
            raise HTTPException(status_code=404)
        return Response(
            _asset(name),
            media_type=media_type,
            headers={"Cache-Control": _ASSETS_CACHE_CONTROL},
        )

    return [
        Route(f"{base}/docs", page, methods=["GET"], include_in_schema=False),
        Route(redirect, oauth2_redirect, methods=["GET"], include_in_schema=False),
        Route(
            f"{base}/docs/assets/{{version}}/{{name}}",
            asset,
            methods=["GET"],
            include_in_schema=False,
        ),
    ]
