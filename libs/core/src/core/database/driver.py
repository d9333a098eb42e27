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
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.util.concurrency import greenlet_spawn

from core.database.errors import is_unavailable

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
    """
    connection = await session.connection()
    pooled = await connection.get_raw_connection()
    adapter: Any = pooled.dbapi_connection
    if adapter._transaction is None and not session.info.get(READS_ONLY):
        await adapter._start_transaction()
    driver: asyncpg.Connection = pooled.driver_connection
    return driver


# What says the connection itself is gone or broken, not just the statement refused.
_UNUSABLE_AFTER = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.InternalClientError,
)


@asynccontextmanager
async def reading_connection(session: AsyncSession) -> AsyncIterator[asyncpg.Connection]:
    """A connection for one read.

    In a READS_ONLY unit of work that has not used the database yet, a connection checked
    out of the pool for this read alone, and back in it right after: a lookup then costs
    no session machinery (about 70 us less), and a request never holds two connections at
    once, whatever it does with the session later. Otherwise, or where the session is
    bound to a connection of its own (tests), the session's connection.
    """
    engine = session.bind
    if not (
        session.info.get(READS_ONLY)
        and not session.in_transaction()
        and isinstance(engine, AsyncEngine)
    ):
        yield await driver_connection(session)
        return
    pooled = await greenlet_spawn(engine.sync_engine.raw_connection)
    try:
        yield pooled.driver_connection
    except Exception as exc:
        # A connection that failed with its server (gone, shutting down, or mid-message
        # when it went) is not put back for the next request to trip over.
        if isinstance(exc, _UNUSABLE_AFTER) or is_unavailable(exc):
            pooled.invalidate()
        raise
    finally:
        await greenlet_spawn(pooled.close)
