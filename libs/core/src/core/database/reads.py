"""Reads' own pool of asyncpg connections, beside SQLAlchemy's.

A read outside any transaction (a GET's, `core.database.driver.reading_connection`) needs
nothing of SQLAlchemy: through its pool, a checkout and check-in are two greenlet hops and
the pool's event dispatch, about 110 us of CPU around a 50 us statement; asyncpg's own pool
costs about 40 us (bench/README.md, "What was cut"). A lookup is a third cheaper for it.

It connects as the engine does (core.database.engine.read_pool), opens connections only
when reads need them, and gives back nothing it cannot trust:
- a connection the server closed is reopened by asyncpg at acquire, for free;
- one that failed with its server (gone, shutting down, or mid-message) is terminated
  before it goes back, so the next read opens a fresh one;
- deployed, one idle for `PING_AFTER_IDLE_SECONDS` is pinged first, as the engine's are
  (a frozen Lambda environment or a proxy's idle timeout leaves no closed socket to see).
A read that waits longer than the pool timeout for a connection fails with asyncio's
TimeoutError, which `core.database.errors` answers 503 like any unreachable database.

Another statement that needs no transaction of its own runs here too: the outbox relay's
record of a delivery (core.events.relay).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from core.database.errors import is_unavailable

ConnectionHook = Callable[[asyncpg.Connection], None]
_CONNECTION_HOOKS: list[ConnectionHook] = []
Connector = Callable[..., Awaitable[asyncpg.Connection]]
_connector: Connector | None = None


def connect_reads_through(connector: Connector | None) -> None:
    """How every read pool of this process opens a connection from now on, called as
    `asyncpg.connect` is (None: asyncpg.connect itself). The counterpart of SQLAlchemy's
    "do_connect" event, where a deployed function re-reads a rotated database password
    (core.aws_lambda.secret_environment.DatabaseCredentials)."""
    global _connector
    _connector = connector


async def _connect(*args: Any, **kwargs: Any) -> asyncpg.Connection:
    return await (_connector or asyncpg.connect)(*args, **kwargs)


def on_new_read_connection(hook: ConnectionHook) -> None:
    """Run `hook` on every connection a read pool of this process opens from now on (the
    process-wide counterpart of SQLAlchemy's Pool "connect" event; tracing uses both)."""
    if hook not in _CONNECTION_HOOKS:
        _CONNECTION_HOOKS.append(hook)


async def _prepare(connection: asyncpg.Connection) -> None:
    for hook in _CONNECTION_HOOKS:
        hook(connection)


async def _keep_session(connection: asyncpg.Connection) -> None:
    """On release: nothing. A read leaves no transaction, cursor, listener or setting
    behind, and asyncpg's default reset (RESET ALL and more) is a round trip per read."""


# What says the connection itself is gone or broken, not just the statement refused.
UNUSABLE_AFTER = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.InternalClientError,
)

# Deployed, a connection idle this long is pinged before use: it may have sat through a
# frozen Lambda execution environment or past a proxy's idle timeout (minutes, always), and
# a proxy's silent drop leaves no closed socket to see. One that was in use a moment ago
# (back-to-back invocations, a busy server) is not: SQLAlchemy's pool_pre_ping pinged on
# every checkout, three round trips each with the asyncpg adapter (BEGIN, a statement,
# ROLLBACK), about a quarter of a warm lookup invocation's CPU.
PING_AFTER_IDLE_SECONDS = 5.0
# One round trip, no transaction. (Not an empty statement: asyncpg 0.32 fails on the empty
# answer with an AttributeError, which made every ping look like a dead connection.)
PING = "SELECT 1"
# At most this many connections' last use is remembered; forgetting one costs a ping.
_REMEMBERED = 256


def _discard(connection: Any) -> None:
    """Terminated, so asyncpg frees its slot and the next read opens a fresh one; one that
    asyncpg saw close has been taken back already (the proxy then refuses every call)."""
    with contextlib.suppress(asyncpg.InterfaceError):
        connection.terminate()


class ReadPool:
    """At most `size` connections for reads, opened on demand and kept; each opened with
    `connect_arguments` (asyncpg.connect's: where the server is, and how to talk to it)."""

    def __init__(
        self,
        connect_arguments: dict[str, Any],
        *,
        size: int,
        acquire_timeout: float,
        ping_idle: bool,
    ) -> None:
        self._connect_arguments = connect_arguments
        self._size = size
        self._acquire_timeout = acquire_timeout
        self._ping_idle = ping_idle
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Lock | None = None
        # Reads wait their turn here, first come first served, rather than in asyncpg's
        # queue, where a read arriving just as a connection comes back takes it before
        # the one woken for it runs: at 32 concurrent lookups on 10 connections, p99 went
        # from 24 ms to 52 ms that way.
        self._turns = asyncio.Semaphore(size)
        # Backend pid -> when the connection last went back (wall clock: it goes on while
        # a Lambda environment is frozen).
        self._last_used: dict[int, float] = {}

    async def _opened(self) -> asyncpg.Pool:
        if self._pool is not None:
            return self._pool
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    min_size=0,
                    max_size=self._size,
                    connect=_connect,
                    init=_prepare,
                    reset=_keep_session,
                    **self._connect_arguments,
                )
        return self._pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        pool = self._pool or await self._opened()
        if self._turns.locked():  # every connection in use: wait a bounded time for a turn
            async with asyncio.timeout(self._acquire_timeout):
                await self._turns.acquire()
        else:
            await self._turns.acquire()
        try:
            connection = await self._acquire(pool)
            backend = connection.get_server_pid()
            try:
                yield connection
            except BaseException as exc:
                if isinstance(exc, UNUSABLE_AFTER) or is_unavailable(exc):
                    _discard(connection)
                raise
            finally:
                self._note_use(backend)
                await pool.release(connection)  # nothing left to do for a terminated one
        finally:
            self._turns.release()

    async def _acquire(self, pool: asyncpg.Pool) -> Any:
        """With a turn taken a connection is free: no wait but a connect's (bounded by its
        own timeout), so no timeout here (asyncpg's runs the acquire as a task of its own)."""
        connection: Any = await pool.acquire()
        if not self._ping_idle or self._answers_without_ping(connection):
            return connection
        try:
            await connection.execute(PING)
        except Exception as exc:
            if not (isinstance(exc, UNUSABLE_AFTER) or is_unavailable(exc)):
                await pool.release(connection)
                raise
            # Gone while idle: replaced, as SQLAlchemy's pre-ping would, by a fresh one.
            _discard(connection)
            await pool.release(connection)
            return await pool.acquire()
        return connection

    def _answers_without_ping(self, connection: asyncpg.Connection) -> bool:
        """Used less than PING_AFTER_IDLE_SECONDS ago (a connection not seen yet is pinged
        once: forgetting costs a round trip, never a dead connection)."""
        last_used = self._last_used.get(connection.get_server_pid())
        return last_used is not None and time.time() - last_used < PING_AFTER_IDLE_SECONDS

    def _note_use(self, backend: int) -> None:
        if len(self._last_used) >= _REMEMBERED:
            self._last_used.clear()
        self._last_used[backend] = time.time()

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
