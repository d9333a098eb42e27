"""create_app(): svc-auth's REST and GraphQL controllers over one service layer."""

from __future__ import annotations

from fastapi import FastAPI

from core.config import PlatformSettings
from core.database import Database
from core.events.sinks import InProcessBus
from core.runtime import ServiceRuntime
from core.web.app import build_service_app
from svc_auth.components import AuthComponents, load_key_ring
from svc_auth.config import AuthSettings
from svc_auth.consumers import consumers
from svc_auth.controllers.rest import members, oauth, users
from svc_auth.repositories.schema_model import platform_tables
from svc_auth.utils.signing import KeyRing


def create_app(
    settings: AuthSettings | None = None,
    platform: PlatformSettings | None = None,
    *,
    database: Database | None = None,
    bus: InProcessBus | None = None,
    keys: KeyRing | None = None,
) -> FastAPI:
    platform = platform or PlatformSettings()
    settings = (settings or AuthSettings()).check_for(platform.environment)
    runtime = ServiceRuntime(
        name="auth",
        settings=platform,
        tables=platform_tables,
        database=database or Database(platform),
        bus=bus or InProcessBus(),
    )
    parts = AuthComponents.build(runtime, settings, keys or load_key_ring(settings, platform))

    def graphql() -> object:
        from svc_auth.controllers.graphql.schema import router

        return router(platform)

    app = build_service_app(
        runtime=runtime,
        title="svc-auth",
        description="Users, OAuth2 clients and tokens, roles and merchant memberships.",
        routers=[oauth.router, oauth.well_known, users.sign_up, users.router, members.router],
        tags=[
            ("oauth2", "Tokens (RFC 6749), revocation (RFC 7009), signing keys, discovery"),
            ("users", "Accounts, the signed-in user, and admin roles"),
            ("members", "A merchant's staff, managed by its owner or an admin"),
            ("clients", "Partner OAuth2 clients, one merchant's systems each"),
        ],
        graphql_router=graphql,
    )
    app.state.auth = parts
    app.state.consumers = consumers(parts)
    for event_type, consumer in app.state.consumers.items():
        runtime.bus.subscribe(event_type, consumer)
    return app
