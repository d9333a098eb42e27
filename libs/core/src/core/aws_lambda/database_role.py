"""A service's own database role, made by its stack's bootstrap step with the master
credentials (docs/deploying.md, "Database roles")."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any, TypeVar

from core.aws_lambda.secret_environment import DATABASE_PROXY_ENDPOINT, RDS_PROXY_POSTGRES_PORT
from core.database.session_limits import SESSION_LIMITS, set_session_limits

logger = logging.getLogger(__name__)

BOOTSTRAP_LOCK = 0x636F75706F6E  # pg_advisory_xact_lock key: one role bootstrap at a time

# A proxy created by the same deploy exists before its target is registered (minutes on a
# first create): its name may not resolve yet, it may refuse the connection, or answer
# with an error until the instance is available. The bootstrap waits, within its timeout.
CONNECT_TIMEOUT_SECONDS = 10.0
FIRST_RETRY_DELAY_SECONDS = 1.0
MAX_RETRY_DELAY_SECONDS = 15.0
# Kept back from the function's remaining time: the last attempt's own timeout, and
# answering CloudFormation.
DEADLINE_MARGIN_SECONDS = CONNECT_TIMEOUT_SECONDS + 5.0
WAIT_WITHOUT_CONTEXT_SECONDS = 120.0

Connection = TypeVar("Connection")


async def connect_when_ready(
    connect: Callable[[], Awaitable[Connection]],
    *,
    give_up_after: float,
    first_delay: float = FIRST_RETRY_DELAY_SECONDS,
    max_delay: float = MAX_RETRY_DELAY_SECONDS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Connection:
    """`connect()`, tried again with doubling delays (up to `max_delay`) while the
    database is not reachable yet, for `give_up_after` seconds at most; then its last
    error is raised.

    Network errors, timeouts and the server's (or the proxy's) refusals are retried: a
    fresh proxy answers each of them while its target registers. Anything else is a bug
    and raised at once.
    """
    import asyncpg

    deadline = clock() + give_up_after
    delay = first_delay
    attempt = 1
    while True:
        try:
            return await connect()
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            if clock() + delay > deadline:
                raise
            logger.warning(
                "database not reachable yet (attempt %d: %s: %s); next attempt in %.0f s",
                attempt,
                type(error).__name__,
                error,
                delay,
            )
            await sleep(delay)
            delay = min(delay * 2, max_delay)
            attempt += 1


def _wait_budget(context: Any) -> float:
    """How long connecting may keep trying: the invocation's remaining time, less a margin."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return WAIT_WITHOUT_CONTEXT_SECONDS
    return max(0.0, float(remaining()) / 1000 - DEADLINE_MARGIN_SECONDS)


async def ensure_service_role(
    connection: Any,
    *,
    role: str,
    password: str,
    schema: str,
    session_limits: Mapping[str, str] = SESSION_LIMITS,
) -> str:
    """A service's own login role, owning its schema and nothing else; idempotent.

    Run with the master credentials (asyncpg connection), by the service stack's
    bootstrap step before its migrations: the role exists with the secret's password, may
    connect (and create a schema, which core.database.migrations' `CREATE SCHEMA IF NOT
    EXISTS` needs even when it exists), owns `schema` and every table, sequence, view and
    type in it (moved from whoever created them before roles were per service), and gets
    no right on any other service's schema: those belong to their own roles. Its sessions
    carry `session_limits` (core.database.session_limits). Returns the role.
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
        await set_session_limits(connection, quoted_role, session_limits)
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
    event: dict[str, Any],
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
    the role and its schema: the data outlives the stack. On a first deploy the proxy may
    still be registering its target: connecting is retried (`connect_when_ready`) for as
    long as the invocation has time.
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

        async def connect() -> Any:
            return await asyncpg.connect(
                host=environ[DATABASE_PROXY_ENDPOINT],
                port=int(environ.get("DATABASE_PORT") or RDS_PROXY_POSTGRES_PORT),
                user=master["username"],
                password=master["password"],
                database=service.get("dbname") or master.get("dbname", "postgres"),
                ssl=ssl,
                statement_cache_size=0,  # through the proxy
                timeout=CONNECT_TIMEOUT_SECONDS,
            )

        connection = await connect_when_ready(connect, give_up_after=_wait_budget(context))
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
