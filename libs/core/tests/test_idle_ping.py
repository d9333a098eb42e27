"""Deployed, a pooled connection idle for a while is pinged once at checkout (one round
trip, no transaction); one back from a request a moment ago is not."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import make_url, text

from core.config import Environment, PlatformSettings
from core.database import engine as engine_module
from core.database import reads as reads_module
from core.database.engine import PING, Database, ping_idle_connections, read_pool

pytestmark = pytest.mark.integration


async def test_only_an_idle_connection_is_pinged(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = PlatformSettings(
        environment=Environment.TEST,
        database_url=database_url,
        database_pool_size=1,
        database_max_overflow=0,
    )
    database = Database(settings)
    engine = database.engine
    ping_idle_connections(engine)  # what a deployed environment's engine does
    sent: list[str] = []

    def logged(query: Any) -> None:
        sent.append(query.query)

    async with engine.connect() as connection:  # opened now: nothing to ping
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        driver.add_query_logger(logged)
        await connection.execute(text("SELECT 0"))
    async with engine.connect() as connection:  # back a moment ago: not pinged
        await connection.execute(text("SELECT 0"))
    assert PING not in sent

    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    async with engine.connect() as connection:  # idle long enough: pinged, then used
        assert (await connection.execute(text("SELECT 2"))).scalar() == 2
        # ... the same connection: the ping answered, nothing was replaced
        assert (await connection.get_raw_connection()).driver_connection is driver
    assert sent.count(PING) == 1
    await database.dispose()


async def test_only_an_idle_read_connection_is_pinged_and_a_dead_one_replaced(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reads' own pool (core.database.reads) deployed: the same rule, and a connection
    that died while idle is replaced before the read, not failed."""
    reads = read_pool(
        PlatformSettings(database_read_pool_size=1), make_url(database_url), ping_idle=True
    )
    sent: list[str] = []

    def logged(query: Any) -> None:
        sent.append(query.query)

    async with reads.connection() as connection:  # not seen yet: pinged once
        connection.add_query_logger(logged)
        first = connection.get_server_pid()
    async with reads.connection() as connection:  # back a moment ago: not pinged
        await connection.fetchval("SELECT 0")
    assert PING not in sent

    monkeypatch.setattr(reads_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    async with reads.connection() as connection:  # idle long enough: pinged, then used
        assert await connection.fetchval("SELECT 2") == 2
        assert connection.get_server_pid() == first  # it answered: nothing replaced
    assert sent.count(PING) == 1

    # Gone while idle, with no closed socket to see yet (a proxy's silent drop): the ping
    # is what finds out (here the server ends the connection as it answers it), and the
    # read gets a fresh connection instead of an error.
    monkeypatch.setattr(reads_module, "PING", "SELECT pg_terminate_backend(pg_backend_pid())")
    async with reads.connection() as connection:
        assert await connection.fetchval("SELECT 3") == 3
        assert connection.get_server_pid() != first
    await reads.close()
