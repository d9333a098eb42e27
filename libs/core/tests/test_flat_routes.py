"""A service's routers are laid flat into its app (core.web.app.include_flat): the routes
answer at their paths, and the app's dependency overrides still reach them."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, FastAPI

from core.web.app import include_flat


def _greeting() -> str:
    return "hello"


async def test_flat_routes_answer_and_take_the_apps_overrides() -> None:
    router = APIRouter(prefix="/api/v1/things")

    @router.get("/{name}", operation_id="getThing")
    async def thing(name: str, greeting: Annotated[str, Depends(_greeting)]) -> dict[str, str]:
        return {"said": f"{greeting} {name}"}

    app = FastAPI()
    include_flat(app, router)
    assert [getattr(route, "path", None) for route in app.router.routes][-1] == (
        "/api/v1/things/{name}"
    )
    assert app.openapi()["paths"]["/api/v1/things/{name}"]["get"]["operationId"] == "getThing"
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/api/v1/things/x")).json() == {"said": "hello x"}
        app.dependency_overrides[_greeting] = lambda: "bye"
        assert (await client.get("/api/v1/things/x")).json() == {"said": "bye x"}
        assert (await client.get("/api/v1/things")).status_code == 404

    # A second app from the same router keeps its own overrides.
    other = FastAPI()
    include_flat(other, router)
    transport = httpx.ASGITransport(app=other)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/api/v1/things/y")).json() == {"said": "hello y"}
