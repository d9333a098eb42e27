"""Bringing the local stack up: database, DynamoDB, keys, migrations, bootstrap, apps."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from core.config import PlatformSettings
from core.database.engine import asyncpg_url
from core.database.errors import is_unavailable
from core.database.migrations import upgrade_services
from core.database.session_limits import set_session_limits
from core.dynamo import ensure_tables
from core.events.sinks import InProcessBus
from core.routing import SERVICES, ServiceRoutes
from devstack.stack.embedded import EmbeddedDynamo, EmbeddedPostgres, connect
from devstack.stack.services import REPO_ROOT, app_factory, service_dir

logger = logging.getLogger("devstack")

LOCAL_ADMIN_EMAIL = "admin@localhost.test"
# The local stand-in for the scheduled sweep's rate (DEVSTACK_SWEEP_SECONDS to change it).
SWEEP_INTERVAL_SECONDS = float(os.environ.get("DEVSTACK_SWEEP_SECONDS", "30"))


def _setup_client(settings: PlatformSettings) -> Any:
    """DynamoDB for set-up: boto3's patient defaults, not a request's time budget (the moto
    server's first calls, creating tables, can take seconds on a busy machine)."""
    import boto3

    return boto3.client(
        "dynamodb", region_name=settings.aws_region, endpoint_url=settings.dynamodb_endpoint_url
    )


@dataclass
class LocalStack:
    """Fills in what the environment leaves out, and stops what it started."""

    state_dir: Path = field(default_factory=lambda: REPO_ROOT / ".local")
    _started: list[Any] = field(default_factory=list)

    def prepare_environment(self, port: int) -> None:
        env = os.environ
        env.setdefault("LOCAL_STATE_DIR", str(self.state_dir))
        env.setdefault("JWT_ISSUER", f"http://127.0.0.1:{port}")
        # svc-coupons asks svc-merchants over HTTP: locally, through this same gateway.
        env.setdefault("COUPONS_MERCHANTS_API_URL", f"http://127.0.0.1:{port}")
        for name, value in {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
        }.items():
            env.setdefault(name, value)
        if not env.get("DATABASE_URL"):
            postgres = EmbeddedPostgres(self.state_dir / "pgdata")
            env["DATABASE_URL"] = postgres.start()
            self._started.append(postgres)
        if not env.get("DYNAMODB_ENDPOINT_URL"):
            dynamo = EmbeddedDynamo(log_file=self.state_dir / "dynamodb.log")
            env["DYNAMODB_ENDPOINT_URL"] = dynamo.start()
            self._started.append(dynamo)
        ensure_tables(_setup_client(PlatformSettings()), PlatformSettings())
        self._local_admin()

    def _local_admin(self) -> None:
        """A local admin account, so the admin portal works on a fresh checkout."""
        env = os.environ
        if env.get("BOOTSTRAP_ADMIN_EMAIL") and env.get("BOOTSTRAP_ADMIN_PASSWORD"):
            return
        password_file = self.state_dir / "admin-password"
        if not password_file.exists():
            self.state_dir.mkdir(parents=True, exist_ok=True)
            password_file.write_text(secrets.token_urlsafe(12))
            password_file.chmod(0o600)
        env["BOOTSTRAP_ADMIN_EMAIL"] = LOCAL_ADMIN_EMAIL
        env["BOOTSTRAP_ADMIN_PASSWORD"] = password_file.read_text().strip()
        logger.info("local admin: %s, password in %s", LOCAL_ADMIN_EMAIL, password_file)

    def stop(self) -> None:
        while self._started:
            self._started.pop().stop()


async def migrate(services: Sequence[ServiceRoutes] = SERVICES) -> None:
    engine = create_async_engine(asyncpg_url(os.environ["DATABASE_URL"]), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await upgrade_services(connection, [service_dir(s) for s in services])
    finally:
        await engine.dispose()
    await limit_sessions(os.environ["DATABASE_URL"])


async def limit_sessions(url: str) -> None:
    """The services' role locally is DATABASE_URL's: it gets the limits a deployed service's
    role gets from its bootstrap (core.database.session_limits), for the sessions it opens
    in DATABASE_URL's database after this. Only there: the role may be the server's
    superuser, which other databases (a test run's, another stack's) share."""
    connection = await connect(url)
    try:
        await set_session_limits(connection, "CURRENT_USER", only_in_this_database=True)
    finally:
        await connection.close()


async def replay_dead_letters(service: ServiceRoutes, event_ids: Sequence[str]) -> int:
    """Give a service's dead-lettered outbox events (these, or all) another round of
    attempts; the running stack's next sweep delivers them. How many."""
    from uuid import UUID

    app = build_apps([service], InProcessBus())[service.name]
    runtime = app.state.runtime
    try:
        return int(await runtime.relay.replay([UUID(i) for i in event_ids] or None))
    finally:
        await runtime.database.dispose()


async def autogenerate(service: ServiceRoutes, message: str) -> None:
    """A new migration from the difference between the models and the migrated schema."""
    from alembic import command
    from sqlalchemy import Connection

    from core.database.migrations import alembic_config

    await migrate()

    def revise(connection: Connection) -> None:
        config = alembic_config(service_dir(service))
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)

    engine = create_async_engine(asyncpg_url(os.environ["DATABASE_URL"]), poolclass=NullPool)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(revise)
    finally:
        await engine.dispose()


def build_apps(services: Sequence[ServiceRoutes], bus: InProcessBus) -> dict[str, Any]:
    """Each service's app; one in-process bus carries events between them."""
    return {service.name: app_factory(service)(bus=bus) for service in services}


async def bootstrap(apps: dict[str, Any]) -> None:
    auth = apps.get("auth")
    if auth is not None:
        from svc_auth.bootstrap import ensure_bootstrap_admin

        await ensure_bootstrap_admin(auth.state.auth)


async def sweep_forever(apps: dict[str, Any]) -> None:
    """The local stand-in for the scheduled sweep: each service's chores and outbox, the
    services side by side as their functions' schedules run them (a sweep draining a
    backlog for its whole budget holds up no other service's)."""
    while True:
        await asyncio.sleep(SWEEP_INTERVAL_SECONDS)
        await asyncio.gather(*(_sweep(app) for app in apps.values()))


async def _sweep(app: Any) -> None:
    try:
        await app.state.runtime.sweep()
    except Exception as exc:
        if is_unavailable(exc):
            logger.warning("scheduled sweep skipped: database unavailable")
        else:
            logger.exception("scheduled sweep failed")


@contextlib.contextmanager
def local_stack(port: int) -> Iterator[LocalStack]:
    stack = LocalStack()
    try:
        stack.prepare_environment(port)
        yield stack
    finally:
        stack.stop()


@contextlib.asynccontextmanager
async def sweeping(apps: dict[str, Any]) -> AsyncIterator[None]:
    task = asyncio.create_task(sweep_forever(apps))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        # The gateway runs no service's lifespan: deliver what the relays still hold while
        # the databases and DynamoDB are still there. All relays first: through the bus,
        # one service's relay runs another's consumers, on that one's database.
        await close_relays(apps)
        for app in apps.values():
            await app.state.runtime.database.dispose()


async def close_relays(apps: dict[str, Any]) -> None:
    for app in apps.values():
        await app.state.runtime.relay.aclose()
