"""One AWS Lambda function per service, answering every kind of event the service receives.

- API Gateway HTTP API requests (payload format 2.0) go through Mangum to the FastAPI app.
- EventBridge events from other services go to the app's idempotent consumer for their
  `detail-type`; `detail` is a `DomainEvent.to_message()`.
- The scheduled EventBridge event ("Scheduled Event" from `aws.events`) sweeps the outbox.
- Events a request commits are delivered before its invocation returns (inline delivery,
  forced here: a frozen execution environment runs no background work).
- `{"action": "migrate"}` runs the service's Alembic migrations and then the app's optional
  `app.state.after_migrate` coroutine function (svc-auth's bootstrap admin). The deploy
  trigger sends the same action inside a CloudFormation custom resource event. A database
  already at a revision this bundle does not know (CloudFormation rolling back to older
  code after a newer deploy's migrations committed) is left as it is, and the action
  succeeds: failing would fail the rollback itself.

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

from core.heap import settle_heap

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy import Connection
    from sqlalchemy.engine import Dialect
    from sqlalchemy.pool import ConnectionPoolEntry

logger = logging.getLogger(__name__)

LambdaEvent = dict[str, Any]

MIGRATE = "migrate"
SWEEP_OUTBOX = "sweep-outbox"

SECRET_ENVIRONMENT = "SECRET_ENVIRONMENT"
"""JSON object naming, for each environment variable, the Secrets Manager secret holding it."""
OPTIONAL_SECRET_ENVIRONMENT = "OPTIONAL_SECRET_ENVIRONMENT"
"""The same, for secrets that may not exist (svc-auth's previous signing key): skipped when
absent, scheduled for deletion, or empty."""
_ABSENT_SECRET_ERRORS = ("ResourceNotFoundException", "InvalidRequestException")
# What PostgreSQL (and RDS Proxy) answer to a wrong password, or a user it does not know.
_AUTHENTICATION_FAILED = ("28P01", "28000")

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
    configuration; `OPTIONAL_SECRET_ENVIRONMENT` names secrets that may be absent. With
    `DATABASE_SECRET_ARN` and `DATABASE_PROXY_ENDPOINT`, DATABASE_URL is built from the
    database secret's credentials and the proxy's address, with TLS required: the secret
    names the instance's host, and the functions must connect through the proxy. Then,
    should the proxy refuse the password (the secret was rotated), a new connection reads
    the secret again (DatabaseCredentials). Variables that are already set win. Returns
    the names it set; does nothing (and imports nothing) when neither is configured, as
    locally and in tests.
    """
    environ = os.environ if environ is None else environ
    wanted: dict[str, str] = json.loads(environ.get(SECRET_ENVIRONMENT) or "{}")
    wanted = {name: secret for name, secret in wanted.items() if not environ.get(name)}
    optional: dict[str, str] = json.loads(environ.get(OPTIONAL_SECRET_ENVIRONMENT) or "{}")
    optional = {name: secret for name, secret in optional.items() if not environ.get(name)}
    proxy = environ.get(DATABASE_PROXY_ENDPOINT)
    database_secret = environ.get("DATABASE_SECRET_ARN")
    through_proxy = bool(proxy and database_secret and not environ.get("DATABASE_URL"))
    if not wanted and not optional and not through_proxy:
        return []
    if client is None:
        import boto3  # only deployed functions get here

        client = boto3.client("secretsmanager")
    loaded: list[str] = []
    for name, secret_id in wanted.items():
        environ[name] = client.get_secret_value(SecretId=secret_id)["SecretString"]
        loaded.append(name)
    for name, secret_id in optional.items():
        value = _optional_secret(client, secret_id)
        if value:
            environ[name] = value
            loaded.append(name)
        else:
            logger.info("optional secret %s is absent: %s left unset", secret_id, name)
    if through_proxy:
        assert proxy
        assert database_secret
        credentials = DatabaseCredentials(client, database_secret, host=proxy)
        environ["DATABASE_URL"] = credentials.url()
        credentials.install()
        loaded.append("DATABASE_URL")
    return loaded


def _optional_secret(client: Any, secret_id: str) -> str | None:
    try:
        value: str = client.get_secret_value(SecretId=secret_id)["SecretString"]
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code in _ABSENT_SECRET_ERRORS:  # never created, or deleted and not yet purged
            return None
        raise
    return value


class DatabaseCredentials:
    """The database secret behind the proxy, read again when the proxy refuses it.

    Functions read the credentials at cold start; a warm one keeps its connection open
    across a password change, but every new connection (after pool_recycle, or a dropped
    one) would fail until the execution environment is replaced. Installed as SQLAlchemy's
    `do_connect` hook for connections to the proxy: a connection refused for its password
    re-reads the secret and, when the password in it has changed, connects again with it.
    """

    def __init__(self, client: Any, secret_id: str, *, host: str) -> None:
        self._client = client
        self._secret_id = secret_id
        self.host = host
        self._credentials = self._read()

    def _read(self) -> dict[str, Any]:
        secret: dict[str, Any] = json.loads(
            self._client.get_secret_value(SecretId=self._secret_id)["SecretString"]
        )
        return secret

    def url(self) -> str:
        from sqlalchemy import URL

        credentials = self._credentials
        return URL.create(
            "postgresql",
            username=credentials["username"],
            password=credentials["password"],
            host=self.host,
            port=RDS_PROXY_POSTGRES_PORT,
            database=credentials.get("dbname", "postgres"),
            # asyncpg: encrypt, as the proxy requires (its require_tls); the proxy's
            # certificate is not pinned.
            query={"ssl": "require"},
        ).render_as_string(hide_password=False)

    def refresh(self) -> bool:
        """Read the secret again; whether its password changed."""
        previous = self._credentials["password"]
        self._credentials = self._read()
        return bool(self._credentials["password"] != previous)

    def connect(
        self,
        dialect: Dialect,
        record: ConnectionPoolEntry,
        cargs: tuple[Any, ...],
        cparams: dict[str, Any],
    ) -> Any:
        """SQLAlchemy's do_connect hook. None: not a connection to the proxy, the default
        connect applies."""
        if cparams.get("host") != self.host:
            return None
        cparams.update(user=self._credentials["username"], password=self._credentials["password"])
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as exc:
            if getattr(exc, "sqlstate", None) not in _AUTHENTICATION_FAILED:
                raise
            if not self.refresh():
                raise
            logger.warning("the database refused its password: connecting with the rotated one")
            cparams.update(
                user=self._credentials["username"], password=self._credentials["password"]
            )
            return dialect.connect(*cargs, **cparams)

    def install(self, target: Any = None) -> None:
        """On every engine of the process (the default), or on one."""
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.listen(Engine if target is None else target, "do_connect", self.connect)

    def uninstall(self, target: Any = None) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        event.remove(Engine if target is None else target, "do_connect", self.connect)


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
        # Lambda freezes the execution environment once the answer is returned: a background
        # delivery worker would not run until some later invocation, if ever. Events are
        # delivered before the invocation ends, whatever EVENT_DELIVERY says; set here, on
        # invocation, so that serving the same module's `app` with uvicorn is unaffected.
        self._app.state.runtime.relay.mode = "inline"
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
            unknown = await connection.run_sync(_upgrade_to_head, self._service_dir / "alembic.ini")
        if unknown:
            # Older code than the database (a rollback): the newer deploy's migrations and
            # its after-migrate step ran already. Migrations are additive first, so the
            # older code works on the newer schema (docs/deploying.md).
            logger.warning(
                "%s: database at revision(s) %s, unknown to this bundle: left as it is",
                self.service,
                ", ".join(unknown),
            )
            return {"migrated": self.service, "unknown_revisions": unknown}
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


def _upgrade_to_head(connection: Connection, alembic_ini: Path) -> list[str]:
    """Alembic over the handler's own connection, with the scripts where the ini says.

    Returns the database's current revisions that the scripts do not know, without
    migrating anything, when there are any; else upgrades to head and returns [].

    Unlike core.database.migrations.alembic_config, the ini's script_location is kept: in a
    Lambda bundle the scripts are not in `alembic/`, which would shadow the alembic library
    installed beside them (see infra.bundle).
    """
    from alembic import command  # only when migrating: not on any request's import path
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    config = Config(str(alembic_ini))
    config.attributes["connection"] = connection
    script = ScriptDirectory.from_config(config)
    known = {revision.revision for revision in script.walk_revisions()}
    unknown: list[str] = []

    def current(heads: tuple[str, ...], context: object) -> list[object]:
        # The service's env.py reads its version table (own schema); nothing is migrated.
        unknown.extend(sorted(head for head in heads if head not in known))
        return []

    # dont_mutate: not even the version table is created by this look.
    with EnvironmentContext(config, script, fn=current, dont_mutate=True):
        script.run_env()
    if not unknown:
        command.upgrade(config, "head")
    return unknown


def lambda_handler(app: FastAPI, *, service_dir: Path) -> ServiceLambdaHandler:
    """`handler = lambda_handler(app, service_dir=Path(__file__).parent)` in a `main.py`.

    Called at import, the end of the cold start: what the start built is set aside from
    the collector's work (core.heap)."""
    handler = ServiceLambdaHandler(app, service_dir=service_dir)
    settle_heap()
    return handler


BOOTSTRAP_LOCK = 0x636F75706F6E  # pg_advisory_xact_lock key: one role bootstrap at a time


async def ensure_service_role(connection: Any, *, role: str, password: str, schema: str) -> str:
    """A service's own login role, owning its schema and nothing else; idempotent.

    Run with the master credentials (asyncpg connection), by the service stack's
    bootstrap step before its migrations: the role exists with the secret's password, may
    connect (and create a schema, which core.database.migrations' `CREATE SCHEMA IF NOT
    EXISTS` needs even when it exists), owns `schema` and every table, sequence, view and
    type in it (moved from whoever created them before roles were per service), and gets
    no right on any other service's schema: those belong to their own roles. Returns the
    role.
    """
    async with connection.transaction():
        # Service stacks deploy in parallel; concurrent GRANTs on one database collide.
        await connection.execute("SELECT pg_advisory_xact_lock($1)", BOOTSTRAP_LOCK)
        quoted_role, quoted_schema, quoted_database, quoted_password = await connection.fetchrow(
            "SELECT quote_ident($1), quote_ident($2), quote_ident(current_database()),"
            " quote_literal($3)",
            role,
            schema,
            password,
        )
        if not await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role):
            # NOSUPERUSER, NOCREATEDB, NOCREATEROLE by default; naming them would take a
            # superuser, which RDS's master user is not.
            await connection.execute(f"CREATE ROLE {quoted_role}")
        await connection.execute(f"ALTER ROLE {quoted_role} WITH LOGIN PASSWORD {quoted_password}")
        await _act_as(connection, role=role, quoted_role=quoted_role)
        await connection.execute(
            f"GRANT CONNECT, CREATE ON DATABASE {quoted_database} TO {quoted_role}"
        )
        await connection.execute(
            f"CREATE SCHEMA IF NOT EXISTS {quoted_schema} AUTHORIZATION {quoted_role}"
        )
        await connection.execute(f"ALTER SCHEMA {quoted_schema} OWNER TO {quoted_role}")
        await connection.execute(f"REVOKE ALL ON SCHEMA {quoted_schema} FROM PUBLIC")
        await _hand_over_objects(connection, role=role, owner=quoted_role, schema=schema)
    return role


POSTGRES_16 = 160000  # server_version_num


async def _act_as(connection: Any, *, role: str, quoted_role: str) -> None:
    """Let the master user act as the role, which handing objects to it takes.

    Making the role own a schema or a table takes being able to SET ROLE to it; altering
    or revoking on what it owns takes its privileges (INHERIT). Up to PostgreSQL 15, a
    member of the role has both. From 16 on, a CREATEROLE user that is no superuser (RDS's
    master) gets only ADMIN OPTION on the roles it creates: it grants itself SET and
    INHERIT, a syntax 15 does not know.
    """
    version = int(await connection.fetchval("SHOW server_version_num"))
    if version < POSTGRES_16:
        if not await connection.fetchval("SELECT pg_has_role(current_user, $1, 'MEMBER')", role):
            await connection.execute(f"GRANT {quoted_role} TO CURRENT_USER")
        return
    if not await connection.fetchval(
        "SELECT pg_has_role(current_user, $1, 'SET') AND pg_has_role(current_user, $1, 'USAGE')",
        role,
    ):
        await connection.execute(f"GRANT {quoted_role} TO CURRENT_USER WITH SET TRUE, INHERIT TRUE")


async def _hand_over_objects(connection: Any, *, role: str, owner: str, schema: str) -> None:
    """Tables (their owned sequences follow), then free sequences, views, and types."""
    relations = await connection.fetch(
        """
        SELECT format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS relkind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND pg_get_userbyid(c.relowner) <> $2
          AND NOT EXISTS (  -- a column's sequence goes with its table
            SELECT 1 FROM pg_depend d
            WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass
              AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
        ORDER BY c.relkind = 'S', c.relname
        """,
        schema,
        role,
    )
    keyword = {"r": "TABLE", "p": "TABLE", "f": "FOREIGN TABLE", "S": "SEQUENCE"}
    keyword |= {"v": "VIEW", "m": "MATERIALIZED VIEW"}
    for relation in relations:
        await connection.execute(
            f"ALTER {keyword[relation['relkind']]} {relation['name']} OWNER TO {owner}"
        )
    types = await connection.fetch(
        """
        SELECT format('%I.%I', n.nspname, t.typname) AS name, t.typtype::text AS typtype
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname = $1 AND t.typtype IN ('e', 'd', 'c', 'r')
          AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
          AND pg_get_userbyid(t.typowner) <> $2
        """,
        schema,
        role,
    )
    for found in types:
        kind = "DOMAIN" if found["typtype"] == "d" else "TYPE"
        await connection.execute(f"ALTER {kind} {found['name']} OWNER TO {owner}")


MASTER_SECRET_ARN = "DATABASE_MASTER_SECRET_ARN"
SERVICE_SECRET_ARN = "DATABASE_SECRET_ARN"
DATABASE_SCHEMA = "DATABASE_SCHEMA"


def bootstrap_database_role(
    event: LambdaEvent,
    context: Any,
    *,
    client: Any = None,
    environ: MutableMapping[str, str] | None = None,
    ssl: Any = "require",
) -> dict[str, Any]:
    """The service stack's database bootstrap (a custom resource, before its migrations):
    `ensure_service_role` with the master credentials through the proxy.

    The only code that reads the master secret; its function's role is the only one
    allowed to. The service's own secret names the role and its password. Delete leaves
    the role and its schema: the data outlives the stack.
    """
    environ = os.environ if environ is None else environ
    physical_id = event.get("PhysicalResourceId") or f"{environ[DATABASE_SCHEMA]}-database-role"
    if event.get("RequestType") == "Delete":
        return {"PhysicalResourceId": physical_id}
    if client is None:
        import boto3

        client = boto3.client("secretsmanager")

    def secret(arn: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
        return value

    master = secret(environ[MASTER_SECRET_ARN])
    service = secret(environ[SERVICE_SECRET_ARN])

    async def run() -> str:
        import asyncpg

        connection = await asyncpg.connect(
            host=environ[DATABASE_PROXY_ENDPOINT],
            port=int(environ.get("DATABASE_PORT") or RDS_PROXY_POSTGRES_PORT),
            user=master["username"],
            password=master["password"],
            database=service.get("dbname") or master.get("dbname", "postgres"),
            ssl=ssl,
            statement_cache_size=0,  # through the proxy
        )
        try:
            return await ensure_service_role(
                connection,
                role=service["username"],
                password=service["password"],
                schema=environ[DATABASE_SCHEMA],
            )
        finally:
            await connection.close()

    role = asyncio.run(run())
    logger.info("database role %s ensured for schema %s", role, environ[DATABASE_SCHEMA])
    return {"PhysicalResourceId": physical_id, "Data": {"Role": role}}
