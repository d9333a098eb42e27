"""Assembling a service's FastAPI app: docs, health, errors, request ids, GraphQL."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, request_response
from sqlalchemy import text
from starlette.routing import Route

from core.runtime import ServiceRuntime
from core.web.docs import swagger_ui_routes
from core.web.graphql import LazyGraphQLEndpoint
from core.web.metrics import metrics_route
from core.web.middleware import RequestContextMiddleware
from core.web.openapi import camel_case_operation_id, install_openapi
from core.web.problems import install_problem_handlers

HEALTH_TAG = ("health", "Is the service up, and does it reach its database")


def include_flat(app: FastAPI, router: APIRouter) -> None:
    """The router's routes as the app's own, at the paths they already carry.

    `include_router` keeps the router as a live node (FastAPI 0.165) that every request
    walks through, recomputing the routes' version on the way: about 9% of a lookup's CPU.
    Ours are built complete (full path, operation id, route class, tags), so nothing of
    the inclusion is lost but the app's dependency overrides: a route's handler closes over
    the provider it was made with (its router's, none), so each app gets a copy of the
    route, its handler made again with the app (a router is module-level, apps are many).
    """
    for route in router.routes:
        if isinstance(route, APIRoute):
            route = copy.copy(route)
            route.dependency_overrides_provider = app
            route.app = request_response(route.get_route_handler())
        app.router.routes.append(route)


def build_service_app(
    *,
    runtime: ServiceRuntime,
    title: str,
    routers: Sequence[APIRouter],
    graphql_router: Callable[[], Any] | None = None,
    description: str = "",
    tags: Sequence[tuple[str, str]] = (),
) -> FastAPI:
    """`tags`: (name, description) of each resource its routes are tagged with."""
    name = runtime.name
    base = f"/api/v1/{name}"

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        # A clean stop (uvicorn) delivers what the relay still holds rather than leave it
        # to the sweep. Lambda runs no lifespan, and needs none: it delivers inline.
        await runtime.relay.aclose()

    if graphql_router is not None:
        description += (
            f"\n\nGraphQL over the same services: `POST /graphql/{name}` "
            "(GraphiQL when opened in a browser)."
        )
    app = FastAPI(
        title=title,
        description=description,
        version="1.0.0",
        openapi_url=f"{base}/openapi.json",
        # Swagger UI from the package's dist, not FastAPI's CDN page (core.web.docs).
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # A path with a slash too many is not found, rather than redirected: Starlette's
        # redirect is an absolute URL built from the client's Host header.
        redirect_slashes=False,
        openapi_tags=[{"name": tag, "description": text} for tag, text in (*tags, HEALTH_TAG)],
        generate_unique_id_function=camel_case_operation_id,
    )
    install_openapi(app)
    app.router.routes.extend(
        swagger_ui_routes(
            app,
            base,
            # Authorize: the password flow with a portal's public client id.
            init_oauth={"clientId": "customer-portal"},
            parameters={"persistAuthorization": True, "displayOperationId": True},
        )
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, metrics=runtime.metrics)
    if not runtime.settings.environment.is_deployed:
        # Never deployed: behind the API it would be public.
        app.router.routes.append(metrics_route(f"{base}/metrics", runtime.metrics))

    @app.get(
        f"{base}/health",
        tags=["health"],
        summary="Liveness and database reachability",
        operation_id=f"get{name.capitalize()}Health",
    )
    async def health() -> dict[str, str]:
        async with runtime.database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return {"status": "ok", "service": name}

    for router in routers:
        include_flat(app, router)
    if graphql_router is not None:
        path = f"/graphql/{name}"
        # A plain route, not a mount: the endpoint answers at its exact path, no redirect.
        app.router.routes.append(Route(path, LazyGraphQLEndpoint(app, path, graphql_router)))
    return app
