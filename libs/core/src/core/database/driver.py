"""The unit of work's own asyncpg connection, for the statements on a hot path.

Through SQLAlchemy a statement costs about 250 us of CPU (building the expression, its
cache key, the adapter's greenlet hop, result processing); through asyncpg alone about
90 us. Repositories whose statements run on every claim, redemption or lookup write them
in SQL and run them here: the same connection, inside the same transaction, so the unit
of work still commits or rolls back everything together.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

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
