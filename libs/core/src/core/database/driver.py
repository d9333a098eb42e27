"""The unit of work's own asyncpg connection, for the statements on a hot path.

Through SQLAlchemy a statement costs about 250 us of CPU (building the expression, its
cache key, the adapter's greenlet hop, result processing); through asyncpg alone about
90 us. Repositories whose statements run on every claim, redemption or lookup write them
in SQL and run them here: the same connection, inside the same transaction, so the unit
of work still commits or rolls back everything together.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util.concurrency import greenlet_spawn

from core.database.reads import ReadPool

# Set on a session (`session.info`) whose work only reads: see `driver_connection`.
READS_ONLY = "core.database.reads_only"


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The session's asyncpg connection, its transaction begun.

    SQLAlchemy's asyncpg adapter opens the transaction lazily, at its first statement; a
    statement sent to the driver before that would run on its own, outside it. So begin
    it here the way the adapter would (its one private method this relies on, pinned by
    libs/core/tests/test_driver_connection.py).

    A session marked READS_ONLY gets no transaction: under READ COMMITTED every statement
    reads its own snapshot anyway, so BEGIN and COMMIT would buy a read nothing but two
    round trips.

    A write's statements each ask for it (a claim: the campaign, the coupon, its event):
    the first finds it in one hop into SQLAlchemy's greenlet, the rest in the session's
    info, for as long as the session's transaction is the one it was found in.
    """
    adapter, driver = await _found(session)
    if adapter._transaction is None and not session.info.get(READS_ONLY):
        await adapter._start_transaction()
    return driver


async def _found(session: AsyncSession) -> tuple[Any, asyncpg.Connection]:
    """The session's adapter and asyncpg connection, checked out if it had none; whether
    its transaction was begun is the adapter's to say (`_transaction`)."""
    transaction = session.sync_session.get_transaction()
    found = session.info.get(_FOUND)
    if found is not None and transaction is not None and found[0] is transaction:
        return found[1], found[2]
    pooled = await greenlet_spawn(_pooled_connection, session.sync_session)
    adapter: Any = pooled.dbapi_connection
    driver: asyncpg.Connection = pooled.driver_connection
    session.info[_FOUND] = (session.sync_session.get_transaction(), adapter, driver)
    return adapter, driver


@asynccontextmanager
async def statement_connection(session: AsyncSession) -> AsyncIterator[asyncpg.Connection]:
    """The connection for one statement that commits by itself (a claim: its contended
    rows are locked by the statement and released by its own commit, with no round trip
    to the client in between, core.database.unit_of_work).

    When the unit of work has begun no transaction yet (it only read, through
    `reading_connection`), the statement runs without BEGIN: its implicit transaction
    commits as it ends, and the unit of work records that it did (`COMMITTED_ALONE`).
    When it has (it wrote before), the statement runs inside it, in a savepoint: the
    request's work still commits as one, and a statement that fails (a unique key taken
    by a concurrent writer) leaves the transaction usable for another attempt.
    """
    if session.info.get(ONE_TRANSACTION):
        await driver_connection(session)  # begun now, so the statement runs inside it
    adapter, driver = await _found(session)
    if adapter._transaction is None and not session.info.get(READS_ONLY):
        yield driver
        session.info[COMMITTED_ALONE] = True
        return
    async with driver.transaction():
        yield driver


def in_one_transaction(session: AsyncSession) -> None:
    """The unit of work's writes commit together or not at all, statements that would commit
    by themselves included (`statement_connection`): for a request of several operations
    (a GraphQL document of several mutations) whose failure undoes all of them, so that
    none of them stays done while its answer says nothing was."""
    session.info[ONE_TRANSACTION] = True


# Set on a session whose statements all run in its one transaction (in_one_transaction).
ONE_TRANSACTION = "core.database.one_transaction"
# Set on a session one of whose statements committed by itself (statement_connection).
COMMITTED_ALONE = "core.database.committed_alone"
_FOUND = "core.database.driver_connection"


def _pooled_connection(session: Session) -> PoolProxiedConnection:
    """The session's pooled connection, checked out (and its transaction begun at the
    session's level) if it had none: what AsyncSession.connection() and
    AsyncConnection.get_raw_connection() find in two hops, in one."""
    return session.connection().connection


# Set by the unit of work on a READS_ONLY session: the pool its reads take a connection
# from (core.database.reads), when the database has one.
READ_POOL = "core.database.read_pool"


@asynccontextmanager
async def reading_connection(session: AsyncSession) -> AsyncIterator[asyncpg.Connection]:
    """A connection for one read, outside any transaction the unit of work has not begun.

    In a READS_ONLY unit of work that has not used the database yet, a connection of the
    reads' own pool for this read alone, back in it right after: a lookup then costs no
    session or SQLAlchemy pool machinery, and a request never holds two connections at
    once, whatever it does with the session later. Otherwise, or where the database has
    no read pool (tests bind every session to one connection), the session's connection.
    """
    reads: ReadPool | None = session.info.get(READ_POOL)
    if reads is None or not session.info.get(READS_ONLY) or session.in_transaction():
        # A write's reads before its first write run without BEGIN (each reads its own
        # snapshot under READ COMMITTED either way): the transaction begins at the first
        # write, so a request whose one write is a statement that commits by itself
        # (statement_connection) holds no transaction at all.
        yield (await _found(session))[1]
        return
    async with reads.connection() as connection:
        yield connection
