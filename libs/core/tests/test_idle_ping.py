"""Deployed, a pooled connection idle for a while is pinged once at checkout (one round
trip, no transaction); one back from a request a moment ago is not."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from core.config import Environment, PlatformSettings
from core.database import engine as engine_module
from core.database.engine import Database, ping_idle_connections

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
        await connection.execute(text("SELECT 1"))
    async with engine.connect() as connection:  # back a moment ago: not pinged
        await connection.execute(text("SELECT 1"))
    assert ";" not in sent

    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    async with engine.connect() as connection:  # idle long enough: pinged, then used
        assert (await connection.execute(text("SELECT 2"))).scalar() == 2
    assert sent.count(";") == 1
    await database.dispose()
