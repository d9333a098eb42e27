"""create_app(): svc-coupons's REST and GraphQL controllers over one service layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from core.config import PlatformSettings
from core.database import Database
from core.events.sinks import InProcessBus
from core.runtime import ServiceRuntime
from core.web.app import build_service_app
from svc_coupons.components import CouponsComponents
from svc_coupons.config import CouponsSettings
from svc_coupons.consumers import consumers
from svc_coupons.controllers.rest import (
    allocations,
    campaigns,
    coupons,
    exchange,
    issuing,
    transfers,
    wallet,
)
from svc_coupons.repositories.schema_model import platform_tables
from svc_coupons.services.business_metrics import COUNTERS

if TYPE_CHECKING:
    import httpx


def create_app(
    settings: CouponsSettings | None = None,
    platform: PlatformSettings | None = None,
    *,
    database: Database | None = None,
    bus: InProcessBus | None = None,
    merchants_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    """`merchants_transport` replaces the network to svc-merchants (tests: an ASGI app or
    a mock transport); without it the client calls COUPONS_MERCHANTS_API_URL."""
    platform = platform or PlatformSettings()
    settings = (settings or CouponsSettings()).check_for(platform.environment)
    runtime = ServiceRuntime(
        name="coupons",
        settings=platform,
        tables=platform_tables,
        database=database or Database(platform),
        bus=bus or InProcessBus(),
        counters=COUNTERS,
    )
    parts = CouponsComponents.build(runtime, settings, merchants_transport)

    def graphql() -> object:
        from svc_coupons.controllers.graphql.schema import router

        return router(platform)

    app = build_service_app(
        runtime=runtime,
        title="svc-coupons",
        description="Campaigns, coupons and codes, wallets and redemptions.",
        # Routes are matched in order: the ones a till or a portal calls most come first.
        routers=[
            coupons.router,
            issuing.router,
            wallet.router,
            campaigns.router,
            transfers.router,
            exchange.router,
            allocations.router,
        ],
        graphql_router=graphql,
        tags=[
            ("campaigns", "What a merchant offers: terms, lifecycle, numbers"),
            ("coupons", "Issued coupons by code: claim, issue, look up, validate, redeem"),
            ("codes", "Unassigned codes for offline distribution, claimed by customers"),
            ("wallet", "A customer's own coupons"),
            ("transfers", "Gifts: a coupon given to another customer with a claim token"),
            ("listings", "The swap marketplace: coupons offered for others"),
            ("allocations", "Shares of a campaign handed to partner merchants to issue"),
        ],
    )
    app.state.coupons = parts
    runtime.chores.append(parts.release_lapsed_transfers)
    runtime.chores.append(parts.close_expired_listings)
    app.state.consumers = consumers(parts)
    for event_type, consumer in app.state.consumers.items():
        runtime.bus.subscribe(event_type, consumer)
    return app
