"""create_app(): svc-merchants's REST and GraphQL controllers over one service layer."""

from __future__ import annotations

from fastapi import FastAPI

from core.config import PlatformSettings
from core.database import Database
from core.events.sinks import InProcessBus
from core.runtime import ServiceRuntime
from core.web.app import build_service_app
from svc_merchants.components import MerchantsComponents
from svc_merchants.config import MerchantsSettings
from svc_merchants.controllers.rest import merchants, outlets
from svc_merchants.repositories.schema_model import platform_tables


def create_app(
    settings: MerchantsSettings | None = None,
    platform: PlatformSettings | None = None,
    *,
    database: Database | None = None,
    bus: InProcessBus | None = None,
) -> FastAPI:
    platform = platform or PlatformSettings()
    runtime = ServiceRuntime(
        name="merchants",
        settings=platform,
        tables=platform_tables,
        database=database or Database(platform),
        bus=bus or InProcessBus(),
    )

    parts = MerchantsComponents(runtime=runtime, settings=settings or MerchantsSettings())

    def graphql() -> object:
        from svc_merchants.controllers.graphql.schema import router

        return router(platform)

    app = build_service_app(
        runtime=runtime,
        title="svc-merchants",
        description="Merchants: application, verification, suspension; and their outlets.",
        routers=[merchants.router, outlets.router],
        tags=[
            ("merchants", "Applications, verification, suspension; profiles"),
            ("outlets", "A verified merchant's shops, where coupons are redeemed"),
        ],
        graphql_router=graphql,
    )
    app.state.merchants = parts
    return app
