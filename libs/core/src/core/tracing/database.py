"""PostgreSQL statements as subsegments: SQLAlchemy's (its cursor events) and those run on
a driver connection, the session's or the reads' pool's (asyncpg's query logger).
SQLAlchemy runs its own through asyncpg's prepared statements, which the query logger
does not see, so a statement counts once (but for SQLAlchemy's `executemany`, which
asyncpg logs too, and which no hot path uses). Nothing is built for an invocation X-Ray
does not sample.

Each subsegment names the statement's first keyword only (`SELECT`, `WITH`, `UPDATE`):
never the SQL text nor a bound value, where a coupon's code could be.
"""

from __future__ import annotations

import time
from typing import Any

from core.database.reads import on_new_read_connection
from core.tracing.xray import record, sampled

NAME = "PostgreSQL"
_START = "core.tracing.started"


def _verb(statement: str) -> str:
    return statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""


def _sql(statement: str) -> dict[str, Any]:
    return {
        "sql": {"database_type": "PostgreSQL"},
        "metadata": {"default": {"statement": _verb(statement)}},
    }


def _before_cursor_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    conn.info[_START] = time.time()


def _after_cursor_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    started = conn.info.pop(_START, None)
    if started is not None and sampled():
        record(NAME, started, time.time(), namespace="remote", **_sql(statement))


def _logged(query: Any) -> None:
    """asyncpg's query logger: called once a statement finished, with how long it took."""
    if not sampled():
        return
    end = time.time()
    record(
        NAME,
        end - query.elapsed,
        end,
        namespace="remote",
        error=query.exception is not None,
        **_sql(query.query),
    )


def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is not None and hasattr(driver, "add_query_logger"):
        driver.add_query_logger(_logged)


def _on_read_connection(driver: Any) -> None:
    driver.add_query_logger(_logged)


_installed = False


def trace_database() -> None:
    """For every engine of the process (once): the engines are made lazily, elsewhere."""
    global _installed
    if _installed:
        return
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.pool import Pool

    event.listen(Engine, "before_cursor_execute", _before_cursor_execute)
    event.listen(Engine, "after_cursor_execute", _after_cursor_execute)
    event.listen(Pool, "connect", _on_connect)
    on_new_read_connection(_on_read_connection)  # the reads' own pool (core.database.reads)
    _installed = True
