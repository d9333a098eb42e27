"""A poison event is given up on after so many attempts (dead-lettered, logged once,
counted, left alone by the sweep) until it is replayed; old rows of the platform tables
are purged in bounded batches, and nothing anyone still needs is."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import MetaData, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import utcnow
from core.config import Environment, PlatformSettings
from core.database.engine import ConnectionBoundDatabase
from core.database.platform_tables import PlatformTables
from core.events import DomainEvent
from core.events.relay import OutboxRelay
from core.events.sinks import Refused
from core.retention import purge_expired

pytestmark = pytest.mark.integration

SCHEMA = "dead_letter_test"


class PickySink:
    """Refuses the events it is told to, until told otherwise."""

    def __init__(self) -> None:
        self.refuse: set[UUID] = set()
        self.delivered: list[UUID] = []

    async def deliver_many(self, events: Sequence[DomainEvent]) -> Refused:
        refused = {e.id: "this consumer cannot handle it" for e in events if e.id in self.refuse}
        self.delivered += [e.id for e in events if e.id not in refused]
        return refused


@pytest.fixture
async def tables(connection: AsyncConnection) -> PlatformTables:
    metadata = MetaData(schema=SCHEMA)
    defined = PlatformTables.define(metadata)
    await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    await connection.run_sync(metadata.create_all)
    return defined


@pytest.fixture
def settings() -> PlatformSettings:
    return PlatformSettings(
        environment=Environment.TEST, database_url="postgresql://x/y", retention_batch_size=2
    )


async def write_events(
    connection: AsyncConnection, tables: PlatformTables, count: int
) -> list[UUID]:
    ids = [uuid4() for _ in range(count)]
    await connection.execute(
        insert(tables.outbox),
        [
            {
                "id": event_id,
                "type": "thing.happened",
                "entity_type": "thing",
                "entity_id": "1",
                "occurred_at": utcnow() - timedelta(minutes=5),
                "data": {},
            }
            for event_id in ids
        ],
    )
    return ids


async def test_a_poison_event_is_dead_lettered_then_replayed(
    connection: AsyncConnection,
    tables: PlatformTables,
    settings: PlatformSettings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = ConnectionBoundDatabase(settings, connection)
    sink = PickySink()
    relay = OutboxRelay(
        database=database, table=tables.outbox, source="test", sinks=[sink], max_attempts=3
    )
    poison, fine = await write_events(connection, tables, 2)
    sink.refuse = {poison}
    with caplog.at_level(logging.ERROR):
        results = [await relay.sweep() for _ in range(5)]
    assert [(r.delivered, r.failed, r.dead_lettered) for r in results] == [
        (1, 1, 0),
        (0, 1, 0),
        (0, 0, 1),  # the third failure: given up on
        (0, 0, 0),  # and left alone since
        (0, 0, 0),
    ]
    assert sink.delivered == [fine]
    dead = [r for r in caplog.records if "dead-lettered" in r.getMessage()]
    assert len(dead) == 1
    assert str(poison) in dead[0].getMessage()
    assert await relay.dead_lettered() == 1

    sink.refuse = set()  # the consumer was fixed
    assert await relay.replay() == 1
    assert await relay.dead_lettered() == 0
    assert (await relay.sweep()).delivered == 1
    assert sink.delivered == [fine, poison]
    row = (
        await connection.execute(select(tables.outbox).where(tables.outbox.c.id == poison))
    ).one()
    assert row.delivered_at is not None
    assert row.dead_lettered_at is None


async def test_replay_names_events(
    connection: AsyncConnection, tables: PlatformTables, settings: PlatformSettings
) -> None:
    database = ConnectionBoundDatabase(settings, connection)
    sink = PickySink()
    relay = OutboxRelay(
        database=database, table=tables.outbox, source="test", sinks=[sink], max_attempts=1
    )
    first, second = await write_events(connection, tables, 2)
    sink.refuse = {first, second}
    await relay.sweep()
    assert await relay.dead_lettered() == 2
    assert await relay.replay([second]) == 1
    assert await relay.replay([uuid4()]) == 0
    assert await relay.dead_lettered() == 1


async def test_retention_purges_old_rows_in_batches_and_keeps_what_is_needed(
    connection: AsyncConnection, tables: PlatformTables, settings: PlatformSettings
) -> None:
    database = ConnectionBoundDatabase(settings, connection)
    old, now = utcnow() - timedelta(days=40), utcnow()
    ids = await write_events(connection, tables, 6)
    outbox = tables.outbox
    # Three delivered long ago, one delivered now, one never delivered, one dead-lettered.
    await connection.execute(
        outbox.update().where(outbox.c.id.in_(ids[:3])).values(delivered_at=old, occurred_at=old)
    )
    await connection.execute(outbox.update().where(outbox.c.id == ids[3]).values(delivered_at=now))
    await connection.execute(
        outbox.update().where(outbox.c.id.in_(ids[4:])).values(occurred_at=old)
    )
    await connection.execute(
        outbox.update().where(outbox.c.id == ids[5]).values(dead_lettered_at=old)
    )
    keys = tables.idempotency_keys
    await connection.execute(
        insert(keys),
        [
            {
                "caller": "c",
                "key": f"k{n}",
                "request_hash": "h",
                "state": "completed",
                "locked_at": at,
                "created_at": at,
            }
            for n, at in enumerate([old, old, old, now])
        ],
    )
    processed = tables.processed_events
    # Consumed event ids are kept longer than anything can redeliver (months).
    forgotten = now - timedelta(days=settings.processed_event_retention_days + 1)
    await connection.execute(
        insert(processed),
        [{"event_id": uuid4(), "event_type": "t", "processed_at": at} for at in (forgotten, old)],
    )

    first = await purge_expired(database, tables, settings)
    assert (first.outbox, first.idempotency_keys, first.processed_events) == (2, 2, 1)
    second = await purge_expired(database, tables, settings)
    assert (second.outbox, second.idempotency_keys, second.processed_events) == (1, 1, 0)
    third = await purge_expired(database, tables, settings)
    assert (third.outbox, third.idempotency_keys, third.processed_events) == (0, 0, 0)

    left = {row.id for row in await connection.execute(select(outbox.c.id))}
    assert left == set(ids[3:])  # delivered recently, undelivered, dead-lettered
    assert [r.key for r in await connection.execute(select(keys.c.key))] == ["k3"]
    assert len((await connection.execute(select(processed))).all()) == 1
