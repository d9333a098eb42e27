"""One AWS Lambda function per service, answering every kind of event the service receives.

- API Gateway HTTP API requests (payload format 2.0) go through Mangum to the FastAPI app.
- EventBridge events from other services go to the app's idempotent consumer for their
  `detail-type`; `detail` is a `DomainEvent.to_message()`.
- The scheduled EventBridge event ("Scheduled Event" from `aws.events`) sweeps the outbox.
- `{"action": "migrate"}` runs the service's Alembic migrations and then the app's optional
  `app.state.after_migrate` coroutine function (svc-auth's bootstrap admin). The deploy
  trigger sends the same action inside a CloudFormation custom resource event.

One event loop serves every invocation of an execution environment, so the SQLAlchemy pool
(bound to the loop it first ran on) is reused by HTTP requests, events and sweeps alike.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy import Connection

logger = logging.getLogger(__name__)

LambdaEvent = dict[str, Any]

MIGRATE = "migrate"
SWEEP_OUTBOX = "sweep-outbox"

SECRET_ENVIRONMENT = "SECRET_ENVIRONMENT"
"""JSON object naming, for each environment variable, the Secrets Manager secret holding it."""

DATABASE_PROXY_ENDPOINT = "DATABASE_PROXY_ENDPOINT"
RDS_PROXY_POSTGRES_PORT = 5432  # an RDS Proxy listens on 5432 whatever the instance's port


class OutboxDeliveryFailed(RuntimeError):
    """The scheduled sweep found events it still cannot deliver."""


class UnknownEventError(ValueError):
    """An event this function has no use for: a misrouted rule or a mistyped manual payload.

    Raised rather than ignored, so that Lambda's retries end in the dead-letter queue where
    someone sees it, instead of the event silently vanishing.
    """


def load_secret_environment(
    environ: MutableMapping[str, str] | None = None, client: Any = None
) -> list[str]:
    """Fill environment variables from Secrets Manager before the settings are read.

    Deployed functions get `SECRET_ENVIRONMENT` (variable name -> secret id) instead of the
    secret values themselves, which would otherwise be readable in the function's
    configuration. With `DATABASE_SECRET_ARN` and `DATABASE_PROXY_ENDPOINT`, DATABASE_URL is
    built from the database secret's credentials and the proxy's address: the secret names
    the instance's host, and the functions must connect through the proxy. Variables that
    are already set win. Returns the names it set; does nothing (and imports nothing) when
    neither is configured, as locally and in tests.
    """
    environ = os.environ if environ is None else environ
    wanted: dict[str, str] = json.loads(environ.get(SECRET_ENVIRONMENT) or "{}")
    wanted = {name: secret for name, secret in wanted.items() if not environ.get(name)}
    proxy = environ.get(DATABASE_PROXY_ENDPOINT)
    database_secret = environ.get("DATABASE_SECRET_ARN")
    through_proxy = bool(proxy and database_secret and not environ.get("DATABASE_URL"))
    if not wanted and not through_proxy:
        return []
    if client is None:
        import boto3  # only deployed functions get here

        client = boto3.client("secretsmanager")
    loaded: list[str] = []
    for name, secret_id in wanted.items():
        environ[name] = client.get_secret_value(SecretId=secret_id)["SecretString"]
        loaded.append(name)
    if through_proxy:
        from sqlalchemy import URL

        credentials = json.loads(client.get_secret_value(SecretId=database_secret)["SecretString"])
        environ["DATABASE_URL"] = URL.create(
            "postgresql",
            username=credentials["username"],
            password=credentials["password"],
            host=proxy,
            port=RDS_PROXY_POSTGRES_PORT,
            database=credentials.get("dbname", "postgres"),
        ).render_as_string(hide_password=False)
        loaded.append("DATABASE_URL")
    return loaded


class ServiceLambdaHandler:
    """The `handler` of a service's `main.py`; see the module docstring for what it answers."""

    def __init__(self, app: FastAPI, *, service_dir: Path) -> None:
        self._app = app
        self._service_dir = service_dir
        self._loop = asyncio.new_event_loop()
        self._http: Callable[[LambdaEvent, Any], dict[str, Any]] | None = None

    @property
    def service(self) -> str:
        name: str = self._app.state.runtime.name
        return name

    def __call__(self, event: LambdaEvent, context: Any) -> dict[str, Any]:
        # Mangum runs the request on the thread's current loop: make it ours, every time, so
        # that requests and the other events below share one loop and one connection pool.
        asyncio.set_event_loop(self._loop)
        if "requestContext" in event:
            return self._http_adapter()(event, context)
        return self._loop.run_until_complete(self._dispatch(event))

    def _http_adapter(self) -> Callable[[LambdaEvent, Any], dict[str, Any]]:
        if self._http is None:
            from mangum import Mangum

            # lifespan="off": a lifespan would run on every invocation; the runtime connects
            # lazily instead (see core.runtime).
            self._http = Mangum(self._app, lifespan="off")
        return self._http

    async def _dispatch(self, event: LambdaEvent) -> dict[str, Any]:
        if "RequestType" in event and "ResourceProperties" in event:
            return await self._custom_resource(event)
        if "detail-type" in event and "detail" in event:
            if event.get("source") == "aws.events" and event["detail-type"] == "Scheduled Event":
                return await self._sweep()
            return await self._consume(event)
        action = event.get("action")
        if action == MIGRATE:
            return await self._migrate()
        if action == SWEEP_OUTBOX:
            return await self._sweep()
        raise UnknownEventError(f"{self.service}: no handler for event with keys {sorted(event)}")

    async def _consume(self, event: LambdaEvent) -> dict[str, Any]:
        from core.events.model import DomainEvent

        detail_type = event["detail-type"]
        consumers: dict[str, Callable[[DomainEvent], Awaitable[bool]]] = getattr(
            self._app.state, "consumers", {}
        )
        consumer = consumers.get(detail_type)
        if consumer is None:
            raise UnknownEventError(f"{self.service} consumes no {detail_type!r} events")
        domain_event = DomainEvent.from_message(event["detail"])
        processed = await consumer(domain_event)
        logger.info(
            "event %s (%s) %s",
            domain_event.id,
            detail_type,
            "processed" if processed else "already processed",
        )
        return {"event_id": str(domain_event.id), "type": detail_type, "processed": processed}

    async def _sweep(self) -> dict[str, Any]:
        result = await self._app.state.runtime.relay.sweep()
        if result.failed:
            # Recorded on the rows already; raising makes a lasting outage reach the
            # function's Errors alarm instead of piling up unseen.
            raise OutboxDeliveryFailed(
                f"{result.failed} outbox events still undeliverable ({result.delivered} delivered)"
            )
        return {"swept": result.delivered}

    async def _migrate(self) -> dict[str, Any]:
        async with self._app.state.runtime.database.engine.begin() as connection:
            await connection.run_sync(_upgrade_to_head, self._service_dir / "alembic.ini")
        after_migrate: Callable[[], Awaitable[object]] | None = getattr(
            self._app.state, "after_migrate", None
        )
        if after_migrate is not None:
            await after_migrate()
        logger.info("%s migrated", self.service)
        return {"migrated": self.service}

    async def _custom_resource(self, event: LambdaEvent) -> dict[str, Any]:
        """The deploy trigger, called by the CDK provider framework with a custom resource event.

        Create and Update carry an `action` in the resource's properties; Delete changes
        nothing (a service's schema outlives the removal of its migration trigger).
        """
        physical_id = f"{self.service}-{event['ResourceProperties'].get('action')}"
        if event["RequestType"] != "Delete":
            await self._dispatch(
                {"action": event["ResourceProperties"].get("action")},
            )
        return {"PhysicalResourceId": event.get("PhysicalResourceId") or physical_id}


def _upgrade_to_head(connection: Connection, alembic_ini: Path) -> None:
    """Alembic over the handler's own connection, with the scripts where the ini says.

    Unlike core.database.migrations.alembic_config, the ini's script_location is kept: in a
    Lambda bundle the scripts are not in `alembic/`, which would shadow the alembic library
    installed beside them (see infra.bundle).
    """
    from alembic import command  # only when migrating: not on any request's import path
    from alembic.config import Config

    config = Config(str(alembic_ini))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def lambda_handler(app: FastAPI, *, service_dir: Path) -> ServiceLambdaHandler:
    """`handler = lambda_handler(app, service_dir=Path(__file__).parent)` in a `main.py`."""
    return ServiceLambdaHandler(app, service_dir=service_dir)
