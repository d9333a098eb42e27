"""Events folded into a change's own statement (`announce` + `OutboxWriter.fetchrow`): their
rows are written exactly when the change is, and the relay hears of exactly those."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, Table, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.config import Environment, PlatformSettings
from core.database.engine import ConnectionBoundDatabase
from core.database.platform_tables import PlatformTables
from core.database.unit_of_work import UnitOfWork
from core.events import DomainEvent
from core.events.outbox import ANNOUNCED_OUTCOME, OutboxWriter, announce, pending_events

pytestmark = pytest.mark.integration

SCHEMA = "announce_test"


@pytest.fixture
async def outbox(connection: AsyncConnection) -> Table:
    metadata = MetaData(schema=SCHEMA)
    table = PlatformTables.define(metadata).outbox
    await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    await connection.run_sync(metadata.create_all)
    await connection.execute(text(f"CREATE TABLE {SCHEMA}.things (id int PRIMARY KEY, n int)"))
    await connection.execute(text(f"INSERT INTO {SCHEMA}.things VALUES (1, 0)"))  # noqa: S608
    return table


def _events(count: int) -> list[DomainEvent]:
    return [
        DomainEvent(
            type="thing.counted",
            entity_type="thing",
            entity_id="1",
            actor="someone",
            data={"n": n, "text": 'ü "quoted"'},
            source="test",
        )
        for n in range(count)
    ]


def _count_up(outbox: Table, events: int) -> str:
    # Counts the thing up only while below $1: the change the events describe.
    return f"""
    WITH counted AS (
        UPDATE {SCHEMA}.things SET n = n + 1 WHERE id = 1 AND n < $1 RETURNING n
    ), {announce(outbox, when="counted", after=1, events=events)}
    SELECT (SELECT n FROM counted) AS n, {ANNOUNCED_OUTCOME}
    """  # noqa: S608 (our own names)


@pytest.mark.parametrize("events", [1, 3])
async def test_events_are_written_and_pending_only_when_the_change_happened(
    connection: AsyncConnection, outbox: Table, events: int
) -> None:
    settings = PlatformSettings(environment=Environment.TEST, database_url="postgresql://x/y")
    database = ConnectionBoundDatabase(settings, connection)
    written, refused = _events(events), _events(events)
    async with UnitOfWork(database) as uow:
        writer = OutboxWriter(outbox, uow.session)
        row = await writer.fetchrow(_count_up(outbox, events), 1, events=written)
        assert row is not None
        assert (row["n"], bool(row["announced"])) == (1, True)
        # The limit is reached: no change, so no event row and nothing to deliver.
        row = await writer.fetchrow(_count_up(outbox, events), 1, events=refused)
        assert row is not None
        assert (row["n"], bool(row["announced"])) == (None, False)
        assert pending_events(uow.session) == written
        uow.rollback_only = True  # the test's own transaction keeps nothing either way
        stored = (await uow.session.execute(select(outbox))).all()
    assert {r.id for r in stored} == {e.id for e in written}
    assert {r.data["n"] for r in stored} == set(range(events))
    assert all(r.data["text"] == 'ü "quoted"' and r.actor == "someone" for r in stored)
