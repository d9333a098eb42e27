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
    transaction = session.sync_session.get_transaction()
    found = session.info.get(_FOUND)
    if found is not None and transaction is not None and found[0] is transaction:
        driver: asyncpg.Connection = found[1]
        return driver
    pooled = await greenlet_spawn(_pooled_connection, session.sync_session)
    adapter: Any = pooled.dbapi_connection
    if adapter._transaction is None and not session.info.get(READS_ONLY):
        await adapter._start_transaction()
    driver = pooled.driver_connection
    session.info[_FOUND] = (session.sync_session.get_transaction(), driver)
    return driver


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
    """A connection for one read.

    In a READS_ONLY unit of work that has not used the database yet, a connection of the
    reads' own pool for this read alone, back in it right after: a lookup then costs no
    session or SQLAlchemy pool machinery, and a request never holds two connections at
    once, whatever it does with the session later. Otherwise, or where the database has
    no read pool (tests bind every session to one connection), the session's connection.
    """
    reads: ReadPool | None = session.info.get(READ_POOL)
    if reads is None or not session.info.get(READS_ONLY) or session.in_transaction():
        yield await driver_connection(session)
        return
    async with reads.connection() as connection:
        yield connection
