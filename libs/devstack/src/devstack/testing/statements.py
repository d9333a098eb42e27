"""The statements a test's database connection runs, for tests that count them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection


@contextmanager
def counting_statements(connection: AsyncConnection) -> Iterator[list[str]]:
    """Every statement run on the connection while the block runs: through SQLAlchemy, and
    on its driver connection directly (the hot paths' SQL, core.database.driver)."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    def logged(query: Any) -> None:
        statements.append(query.query)

    sync_connection = connection.sync_connection
    assert sync_connection is not None
    driver = sync_connection.connection.driver_connection
    assert driver is not None, "the connection was closed"
    event.listen(sync_connection, "before_cursor_execute", count)
    driver.add_query_logger(logged)
    try:
        yield statements
    finally:
        event.remove(sync_connection, "before_cursor_execute", count)
        driver.remove_query_logger(logged)
