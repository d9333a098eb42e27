"""A poison event is given up on after so many attempts (dead-lettered, logged once,
counted, left alone by the sweep) until it is replayed; old rows of the platform tables
are purged in bounded batches, and nothing anyone still needs is."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import MetaData, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import utcnow
from core.config import Environment, PlatformSettings
from core.database.engine import ConnectionBoundDatabase
from core.database.platform_tables import PlatformTables
from core.events import DomainEvent
from core.events.relay import OutboxRelay
from core.events.sinks import Failed, Failure
from core.retention import purge_expired

pytestmark = pytest.mark.integration

SCHEMA = "dead_letter_test"


class PickySink:
    """Refuses the events it is told to, until told otherwise."""

    def __init__(self) -> None:
        self.refuse: set[UUID] = set()
        self.delivered: list[UUID] = []

    async def deliver_many(self, events: Sequence[DomainEvent]) -> Failed:
        refusal = Failure.refusal("this consumer cannot handle it")
        refused = {e.id: refusal for e in events if e.id in self.refuse}
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
        database=database,
        table=tables.outbox,
        source="test",
        sinks=[sink],
        max_attempts=3,
        retry_after_min=timedelta(0),
        retry_after_max=timedelta(0),
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


class DownSink:
    """An audit table or event bus that is unavailable, then back."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0

    async def deliver_many(self, events: Sequence[DomainEvent]) -> Failed:
        self.calls += 1
        if not self.down:
            return {}
        outage = Failure.outage("EndpointConnectionError('Could not connect')")
        return {e.id: outage for e in events}


async def test_an_outage_dead_letters_nothing_however_many_sweeps_it_lasts(
    connection: AsyncConnection, tables: PlatformTables, settings: PlatformSettings
) -> None:
    database = ConnectionBoundDatabase(settings, connection)
    sink = DownSink()
    relay = OutboxRelay(
        database=database,
        table=tables.outbox,
        source="test",
        sinks=[sink],
        max_attempts=3,
        retry_after_min=timedelta(0),
        retry_after_max=timedelta(0),
    )
    ids = await write_events(connection, tables, 4)

    results = [await relay.sweep() for _ in range(6)]

    assert sink.calls == 6
    assert all((r.delivered, r.failed, r.dead_lettered) == (0, 4, 0) for r in results)
    assert await relay.dead_lettered() == 0
    found = (await connection.execute(select(tables.outbox))).all()
    assert {row.attempts for row in found} == {0}
    assert all("Could not connect" in (row.last_error or "") for row in found)

    sink.down = False
    assert (await relay.sweep()).delivered == len(ids)


async def test_each_failed_event_backs_off_doubling_within_bounds(
    connection: AsyncConnection, tables: PlatformTables, settings: PlatformSettings
) -> None:
    """A failed event waits as long again as it has waited, times a jitter of one half to
    one, within [retry_after_min, retry_after_max]; the sweep leaves it alone meanwhile."""
    database = ConnectionBoundDatabase(settings, connection)
    sink = DownSink()
    relay = OutboxRelay(
        database=database,
        table=tables.outbox,
        source="test",
        sinks=[sink],
        retry_after_min=timedelta(seconds=10),
        retry_after_max=timedelta(seconds=60),
    )
    now = utcnow()
    waited = {
        uuid4(): timedelta(seconds=2),
        uuid4(): timedelta(seconds=40),
        uuid4(): timedelta(hours=1),
    }
    await connection.execute(
        insert(tables.outbox),
        [
            {
                "id": event_id,
                "type": "thing.happened",
                "entity_type": "thing",
                "entity_id": "1",
                "occurred_at": now - age,
                "data": {},
            }
            for event_id, age in waited.items()
        ],
    )

    assert (await relay.sweep(older_than=timedelta(0))).failed == 3
    due = {
        row.id: (row.next_attempt_at - now).total_seconds()
        for row in await connection.execute(select(tables.outbox))
    }
    short, doubled, capped = waited
    assert 5 <= due[short] <= 10 + 1  # at least the minimum (halved by the jitter at most)
    assert 20 <= due[doubled] <= 40 + 1  # as long again as it waited
    assert 30 <= due[capped] <= 60 + 1  # never beyond the maximum

    # Not due yet: the next sweeps send nothing.
    assert (await relay.sweep(older_than=timedelta(0))).failed == 0
    assert sink.calls == 1
    sink.down = False
    await connection.execute(
        update(tables.outbox).values(next_attempt_at=now - timedelta(seconds=1))
    )
    assert (await relay.sweep(older_than=timedelta(0))).delivered == 3


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
