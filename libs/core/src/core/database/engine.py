"""The async engine, created once per process on first use and reused across requests."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from sqlalchemy import URL, event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_only

from core.config import PlatformSettings
from core.database.reads import PING, PING_AFTER_IDLE_SECONDS, ReadPool

if TYPE_CHECKING:
    from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection


def asyncpg_url(raw: str) -> URL:
    """Accept `postgresql://` URLs (what pgserver, RDS and psql speak) for the asyncpg driver."""
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+asyncpg")
    return url


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
TLS_QUERY_KEYS = frozenset({"ssl", "sslmode"})


def tls_pointless(url: URL) -> bool:
    """A server on this machine (loopback or a Unix socket) named with no TLS setting: the
    driver's default (`prefer`) would build a TLS context and ask the server for TLS on
    every new connection, for a link that never leaves the machine."""
    if TLS_QUERY_KEYS & set(url.query):
        return False
    host = url.host or url.query.get("host")
    if host is None:
        return True
    return isinstance(host, str) and (host in LOOPBACK_HOSTS or host.startswith("/"))


def _url_from_secret(secret_arn: str, region: str) -> str:
    import boto3  # only deployed functions read the database secret

    client = boto3.client("secretsmanager", region_name=region)
    secret = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    url = URL.create(
        "postgresql+asyncpg",
        username=secret["username"],
        password=secret["password"],
        host=secret["host"],
        port=int(secret.get("port", 5432)),
        database=secret.get("dbname", "postgres"),
    )
    return url.render_as_string(hide_password=False)


def _drop_closed_connection(
    dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
) -> None:
    """A pooled connection the server closed (a restart, a failover, an idle timeout) is
    replaced before anyone uses it, for free: asyncpg marks a connection closed as soon as
    the event loop sees its socket end, so this costs no round trip (pool_pre_ping costs
    three). The pool retries the checkout with a fresh connection."""
    if record.driver_connection is not None and record.driver_connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


_CHECKED_IN_AT = "core.database.checked_in_at"

# How much longer than the server's statement_timeout the driver waits for a migration
# statement's answer: the server's own cancellation comes first, with its error.
MIGRATION_ANSWER_SECONDS = 5.0


def _note_checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info[_CHECKED_IN_AT] = time.time()  # wall clock: it goes on while frozen


def _ping_if_idle(
    dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection
) -> None:
    """One round trip (PING) on a connection idle for
    PING_AFTER_IDLE_SECONDS or more; one that does not answer is replaced, as
    pool_pre_ping would. A connection never checked in yet was opened just now."""
    checked_in_at = record.info.get(_CHECKED_IN_AT)
    driver = record.driver_connection
    if checked_in_at is None or driver is None:
        return
    if time.time() - checked_in_at < PING_AFTER_IDLE_SECONDS:
        return
    try:
        await_only(driver.execute(PING))
    except Exception as exc:
        raise DisconnectionError("a pooled connection did not answer its ping") from exc


def ping_idle_connections(engine: AsyncEngine) -> None:
    """Ping a pooled connection at checkout when it has been idle a while (_ping_if_idle)."""
    event.listen(engine.sync_engine, "checkin", _note_checkin)
    event.listen(engine.sync_engine, "checkout", _ping_if_idle)


def driver_connect_arguments(settings: PlatformSettings, url: URL) -> dict[str, Any]:
    """How every connection of the process is opened, by SQLAlchemy's engine or by the
    reads' own pool (core.database.reads): asyncpg's `connect` arguments."""
    arguments: dict[str, Any] = {
        "server_settings": {"application_name": "coupon-platform"},
        # Bounded waits: a server that does not answer is database_unavailable (503).
        "timeout": settings.database_connect_timeout_seconds,
        "command_timeout": settings.database_statement_timeout_seconds,
    }
    if tls_pointless(url):
        arguments["ssl"] = False
    if settings.database_behind_proxy:
        # A proxy multiplexes server connections: no prepared statement outlives its query.
        arguments["statement_cache_size"] = 0
    return arguments


# Arguments SQLAlchemy's asyncpg adapter takes for itself; asyncpg.connect knows none.
_ADAPTER_ONLY = ("prepared_statement_cache_size", "prepared_statement_name_func")


def server_arguments(url: URL) -> dict[str, Any]:
    """Where `url` points (host or Unix socket, port, database, user, password, `ssl`), as
    asyncpg.connect's arguments, read as SQLAlchemy's asyncpg dialect reads them for the
    engine. (Given as a DSN, asyncpg would take a query key such as `ssl=require`, which
    deployed URLs carry, for a server setting, and the server would refuse it.)"""
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    _, arguments = dialect().create_connect_args(url.set(drivername="postgresql+asyncpg"))  # type: ignore[no-untyped-call]
    for key in _ADAPTER_ONLY:
        arguments.pop(key, None)
    return dict(arguments)


def read_pool(settings: PlatformSettings, url: URL, *, ping_idle: bool | None = None) -> ReadPool:
    """The reads' own pool (core.database.reads), connecting as the engine does; deployed,
    its idle connections are pinged (unless `ping_idle` says otherwise)."""
    return ReadPool(
        server_arguments(url) | driver_connect_arguments(settings, url),
        size=settings.database_read_pool_size,
        acquire_timeout=settings.database_pool_timeout_seconds,
        ping_idle=settings.environment.is_deployed if ping_idle is None else ping_idle,
    )


class Database:
    """Owns one engine per process. Nothing connects until the first session is used."""

    def __init__(self, settings: PlatformSettings) -> None:
        self._settings = settings
        self._engine: AsyncEngine | None = None
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._reads: ReadPool | None = None

    def url(self) -> URL:
        settings = self._settings
        if settings.database_url is not None:
            return asyncpg_url(settings.database_url.get_secret_value())
        if settings.database_secret_arn is not None:
            return asyncpg_url(_url_from_secret(settings.database_secret_arn, settings.aws_region))
        raise RuntimeError(
            "DATABASE_URL is not set: start the stack with `make run` (embedded PostgreSQL) "
            "or point DATABASE_URL at a server"
        )

    def _engine_options(self, url: URL) -> dict[str, Any]:
        settings = self._settings
        connect_args = driver_connect_arguments(settings, url)
        if settings.database_behind_proxy:
            # SQLAlchemy's adapter names its prepared statements: they would collide.
            connect_args["prepared_statement_name_func"] = lambda: f"__asyncpg_{uuid4()}__"
        return {
            # A connection opened under load is kept once opened, up to pool_size +
            # max_overflow: a pool that keeps only pool_size closes each connection it
            # cannot queue on its return, and under a steady load above pool_size it then
            # opened and closed a dozen connections a second (connect, TLS attempt, type
            # introspection, close: about 15% of a busy process's CPU).
            "pool_size": settings.database_pool_size + settings.database_max_overflow,
            "max_overflow": 0,
            "pool_timeout": settings.database_pool_timeout_seconds,
            # Deployed, a connection idle for a while is pinged at checkout instead
            # (_ping_if_idle); locally a ping buys nothing.
            "pool_pre_ping": False,
            "pool_recycle": 300,
            # Bound values (coupon codes, emails) stay out of error messages and logs.
            "hide_parameters": True,
            "connect_args": connect_args,
        }

    def _engine_url(self) -> URL:
        url = self.url()
        if self._settings.database_behind_proxy:
            url = url.update_query_dict({"prepared_statement_cache_size": "0"})
        return url

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            url = self._engine_url()
            self._engine = create_async_engine(url, **self._engine_options(url))
            event.listen(self._engine.sync_engine, "checkout", _drop_closed_connection)
            if self._settings.environment.is_deployed:
                ping_idle_connections(self._engine)
        return self._engine

    def migration_engine(self, statement_timeout_seconds: float) -> AsyncEngine:
        """An engine without a pool, for one migration run: what the run sets on its session
        (core.database.migrations) ends with its connection instead of reaching a request,
        and the driver waits for a statement as long as the server lets it run (the pool's
        command timeout would cut an index build short)."""
        url = self._engine_url()
        options = self._engine_options(url)
        connect_args = options["connect_args"]
        connect_args["command_timeout"] = statement_timeout_seconds + MIGRATION_ANSWER_SECONDS
        return create_async_engine(
            url, poolclass=NullPool, hide_parameters=True, connect_args=connect_args
        )

    @property
    def reads(self) -> ReadPool | None:
        """The pool reads outside a transaction take their connection from; None where
        every statement must run on the session's connection (ConnectionBoundDatabase)."""
        if self._reads is None:
            self._reads = read_pool(self._settings, self.url())
        return self._reads

    def session(self) -> AsyncSession:
        if self._sessions is None:
            self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        return self._sessions()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A short transaction of its own, outside any request's unit of work."""
        async with self.session() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        if self._reads is not None:
            await self._reads.close()
            self._reads = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
            self._sessions = None


class ConnectionBoundDatabase(Database):
    """Every session joins one outer transaction as a savepoint: tests roll it all back."""

    def __init__(self, settings: PlatformSettings, connection: AsyncConnection) -> None:
        super().__init__(settings)
        self._connection = connection

    @property
    def engine(self) -> AsyncEngine:
        return self._connection.engine

    @property
    def reads(self) -> ReadPool | None:
        return None  # a read must see the test's uncommitted rows: the bound connection

    def session(self) -> AsyncSession:
        return AsyncSession(
            bind=self._connection,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
        )

    async def dispose(self) -> None:
        return None
