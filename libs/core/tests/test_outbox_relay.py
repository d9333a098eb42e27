"""The outbox relay, inline and background, with fake sinks over a real outbox table.

The table lives in a schema of the test's own, created inside the test's transaction and
rolled back with it; every relay transaction is a savepoint on that connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import MetaData, Table, event, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from core import correlation
from core.config import Environment, PlatformSettings
from core.database.engine import ConnectionBoundDatabase, Database
from core.database.platform_tables import PlatformTables
from core.database.unit_of_work import UnitOfWork
from core.events import DomainEvent
from core.events.outbox import OutboxWriter
from core.events.relay import OutboxRelay
from core.events.sinks import Failed, Failure

pytestmark = pytest.mark.integration

SCHEMA = "relay_test"


class FakeSink:
    """Records each batch; refuses chosen events, raises when told, waits at a gate."""

    def __init__(self, refuse: dict[UUID, Failure] | None = None) -> None:
        self.batches: list[list[UUID]] = []
        self.refuse = refuse or {}
        self.raise_next: Exception | None = None
        self.gate: asyncio.Event | None = None
        self.called = asyncio.Event()

    @property
    def seen(self) -> list[UUID]:
        return [event_id for batch in self.batches for event_id in batch]

    async def deliver_many(self, events: Sequence[DomainEvent]) -> Failed:
        self.batches.append([e.id for e in events])
        self.called.set()
        if self.gate is not None:
            await self.gate.wait()
        if self.raise_next is not None:
            exc, self.raise_next = self.raise_next, None
            raise exc
        return {e.id: self.refuse[e.id] for e in events if e.id in self.refuse}


@pytest.fixture
async def outbox(connection: AsyncConnection) -> Table:
    metadata = MetaData(schema=SCHEMA)
    table = PlatformTables.define(metadata).outbox
    await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    await connection.run_sync(metadata.create_all)
    return table


@pytest.fixture
def database(connection: AsyncConnection) -> ConnectionBoundDatabase:
    settings = PlatformSettings(environment=Environment.TEST, database_url="postgresql://x/y")
    return ConnectionBoundDatabase(settings, connection)


@pytest.fixture
def statements(connection: AsyncConnection) -> Iterator[list[str]]:
    """Every SQL statement run on the test's connection while the test runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    sync = connection.sync_connection
    assert sync is not None
    event.listen(sync, "before_cursor_execute", record)
    yield seen
    event.remove(sync, "before_cursor_execute", record)


MARK_DELIVERED = "UPDATE relay_test.outbox SET delivered_at"


def marked_delivered(statements: list[str]) -> list[str]:
    return [s for s in statements if s.startswith(MARK_DELIVERED)]


# A failed event is due again at once unless a test says otherwise: a sweep right after a
# failure retries it.
NO_BACKOFF = {"retry_after_min": timedelta(0), "retry_after_max": timedelta(0)}


def relay_for(database: Database, outbox: Table, *sinks: FakeSink, **options: Any) -> OutboxRelay:
    return OutboxRelay(
        database=database, table=outbox, source="test", sinks=sinks, **(NO_BACKOFF | options)
    )


@pytest.fixture
async def closing() -> AsyncIterator[list[OutboxRelay]]:
    """Relays to stop at the end, so that no worker outlives its test."""
    relays: list[OutboxRelay] = []
    yield relays
    for relay in relays:
        await relay.aclose()


def new_events(count: int) -> list[DomainEvent]:
    return [
        DomainEvent(
            type="thing.happened",
            entity_type="thing",
            entity_id=str(n),
            actor=None,
            data={"n": n},
            source="test",
        )
        for n in range(count)
    ]


async def commit(
    database: Database, outbox: Table, relay: OutboxRelay, count: int
) -> list[DomainEvent]:
    """One transaction writing `count` events, with the relay as its after-commit hook."""
    events = new_events(count)
    async with UnitOfWork(database, after_commit=[relay.after_commit]) as uow:
        writer = OutboxWriter(outbox, uow.session)
        for domain_event in events:
            await writer.add(domain_event)
    return events


async def rows(connection: AsyncConnection, outbox: Table) -> dict[UUID, Any]:
    return {row.id: row for row in await connection.execute(select(outbox))}


async def test_inline_delivers_before_the_hook_returns_and_marks_once(
    connection: AsyncConnection,
    database: ConnectionBoundDatabase,
    outbox: Table,
    statements: list[str],
) -> None:
    audit, bus = FakeSink(), FakeSink()
    relay = relay_for(database, outbox, audit, bus, mode="inline")
    events = await commit(database, outbox, relay, 30)

    ids = [e.id for e in events]
    assert audit.batches == [ids]  # one call per sink for the transaction; sinks chunk
    assert bus.batches == [ids]
    assert all(row.delivered_at is not None for row in (await rows(connection, outbox)).values())
    assert len(marked_delivered(statements)) == 1


async def test_a_sinks_refusal_fails_only_those_events_and_later_sinks_skip_them(
    connection: AsyncConnection,
    database: ConnectionBoundDatabase,
    outbox: Table,
    statements: list[str],
) -> None:
    events = new_events(4)
    first, second = events[0].id, events[1].id
    audit = FakeSink(refuse={first: Failure.outage("audit throttled")})
    bus = FakeSink(refuse={second: Failure.refusal("subscriber failed")})
    relay = relay_for(database, outbox, audit, bus, mode="inline")
    async with UnitOfWork(database, after_commit=[relay.after_commit]) as uow:
        for domain_event in events:
            await OutboxWriter(outbox, uow.session).add(domain_event)

    assert bus.batches == [[e.id for e in events[1:]]]  # the refused one went no further
    found = await rows(connection, outbox)
    # An unavailable sink counts no attempt; a refusal of the event does.
    assert (found[first].attempts, found[first].last_error) == (0, "audit throttled")
    assert (found[second].attempts, found[second].last_error) == (1, "subscriber failed")
    assert found[first].delivered_at is None
    assert found[second].delivered_at is None
    for delivered in events[2:]:
        assert found[delivered.id].delivered_at is not None
        assert found[delivered.id].attempts == 0
    assert len(marked_delivered(statements)) == 1


async def test_background_returns_at_once_and_sends_the_first_event_without_delay(
    connection: AsyncConnection,
    database: ConnectionBoundDatabase,
    outbox: Table,
    closing: list[OutboxRelay],
) -> None:
    sink = FakeSink()
    sink.gate = asyncio.Event()  # the sink does not answer until told
    relay = relay_for(database, outbox, sink, mode="background")
    closing.append(relay)

    [only] = await commit(database, outbox, relay, 1)  # returns with the sink still waiting
    await asyncio.wait_for(sink.called.wait(), timeout=1)
    assert sink.batches == [[only.id]]
    assert (await rows(connection, outbox))[only.id].delivered_at is None

    sink.gate.set()
    await relay.flush()
    assert (await rows(connection, outbox))[only.id].delivered_at is not None


async def test_background_batches_form_while_one_is_in_flight(
    connection: AsyncConnection,
    database: ConnectionBoundDatabase,
    outbox: Table,
    statements: list[str],
    closing: list[OutboxRelay],
) -> None:
    audit, bus = FakeSink(), FakeSink()
    audit.gate = asyncio.Event()
    relay = relay_for(database, outbox, audit, bus, mode="background")
    closing.append(relay)

    first = await commit(database, outbox, relay, 1)
    await asyncio.wait_for(audit.called.wait(), timeout=1)
    later = [e for _ in range(6) for e in await commit(database, outbox, relay, 10)]
    audit.gate.set()
    await relay.flush()

    assert [len(batch) for batch in audit.batches] == [1, 25, 25, 10]
    assert audit.seen == [e.id for e in first + later]  # in commit order
    assert bus.batches == audit.batches
    assert len(marked_delivered(statements)) == 4  # one statement per batch
    assert all(row.delivered_at is not None for row in (await rows(connection, outbox)).values())


async def test_under_load_a_partial_batch_waits_for_more(
    database: ConnectionBoundDatabase, outbox: Table, closing: list[OutboxRelay]
) -> None:
    sink = FakeSink()
    sink.gate = asyncio.Event()
    relay = relay_for(database, outbox, sink, mode="background", linger=0.3)
    closing.append(relay)

    await commit(database, outbox, relay, 1)
    await asyncio.wait_for(sink.called.wait(), timeout=1)  # the first goes out at once
    await commit(database, outbox, relay, 3)  # queued while that batch is in flight
    sink.gate.set()
    await asyncio.sleep(0.05)  # the worker has taken the three and lingers
    await commit(database, outbox, relay, 2)
    await relay.flush()

    assert [len(batch) for batch in sink.batches] == [1, 5]


async def test_background_records_partial_failures_per_event(
    connection: AsyncConnection,
    database: ConnectionBoundDatabase,
    outbox: Table,
    closing: list[OutboxRelay],
) -> None:
    sink = FakeSink()
    relay = relay_for(database, outbox, sink, mode="background")
    closing.append(relay)
    events = new_events(3)
    sink.refuse = {events[1].id: Failure.outage("ProvisionedThroughputExceededException")}
    async with UnitOfWork(database, after_commit=[relay.after_commit]) as uow:
        for domain_event in events:
            await OutboxWriter(outbox, uow.session).add(domain_event)
    await relay.flush()

    found = await rows(connection, outbox)
    assert found[events[1].id].delivered_at is None
    assert found[events[1].id].attempts == 0
    assert found[events[1].id].last_error == "ProvisionedThroughputExceededException"
    assert found[events[1].id].next_attempt_at is not None
    assert found[events[0].id].delivered_at is not None
    assert found[events[2].id].delivered_at is not None


async def test_a_full_queue_leaves_events_to_the_sweep_without_failing_the_request(
    connection: AsyncConnection,
    database: ConnectionBoundDatabase,
    outbox: Table,
    closing: list[OutboxRelay],
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink = FakeSink()
    relay = relay_for(database, outbox, sink, mode="background", queue_size=3)
    closing.append(relay)

    with caplog.at_level(logging.WARNING, logger="core.events.relay"):
        events = await commit(database, outbox, relay, 5)
    assert "queue full, 2 events left to the sweep" in caplog.text
    await relay.flush()
    assert sink.seen == [e.id for e in events[:3]]
    found = await rows(connection, outbox)
    left = [e.id for e in events[3:]]
    assert all(found[i].delivered_at is None and found[i].attempts == 0 for i in left)

    swept = await relay.sweep(older_than=timedelta(0))
    assert (swept.delivered, swept.failed) == (2, 0)
    assert sink.seen[3:] == left
    assert all(row.delivered_at is not None for row in (await rows(connection, outbox)).values())


async def test_aclose_delivers_everything_queued_and_stops_the_worker(
    connection: AsyncConnection, database: ConnectionBoundDatabase, outbox: Table
) -> None:
    sink = FakeSink()
    sink.gate = asyncio.Event()
    relay = relay_for(database, outbox, sink, mode="background")
    events = [e for _ in range(3) for e in await commit(database, outbox, relay, 20)]
    worker = relay._worker
    assert worker is not None

    asyncio.get_running_loop().call_soon(sink.gate.set)
    await relay.aclose()

    assert worker.done()
    assert sink.seen == [e.id for e in events]
    assert all(row.delivered_at is not None for row in (await rows(connection, outbox)).values())
    # A later commit starts a worker again.
    [again] = await commit(database, outbox, relay, 1)
    await relay.aclose()
    assert sink.seen[-1] == again.id


async def test_the_worker_survives_a_sink_exception_and_a_failed_record(
    connection: AsyncConnection,
    database: ConnectionBoundDatabase,
    outbox: Table,
    closing: list[OutboxRelay],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sink = FakeSink()
    sink.raise_next = ConnectionError("DynamoDB unreachable")
    relay = relay_for(database, outbox, sink, mode="background")
    closing.append(relay)

    broken = await commit(database, outbox, relay, 2)
    await relay.flush()
    worker = relay._worker
    found = await rows(connection, outbox)
    for failed in broken:
        assert found[failed.id].delivered_at is None
        assert found[failed.id].attempts == 0  # unreachable: not the event's fault
        assert "DynamoDB unreachable" in found[failed.id].last_error

    # Recording the outcome fails too (the database went away): logged, the rows stay.
    real_transaction = database.transaction
    calls = 0

    def failing_once() -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("connection refused")
        return real_transaction()

    monkeypatch.setattr(database, "transaction", failing_once)
    [unrecorded] = await commit(database, outbox, relay, 1)
    await relay.flush()
    assert (await rows(connection, outbox))[unrecorded.id].delivered_at is None

    [fine] = await commit(database, outbox, relay, 1)
    await relay.flush()
    assert relay._worker is worker
    assert worker is not None
    assert not worker.done()
    assert (await rows(connection, outbox))[fine.id].delivered_at is not None


async def test_the_sweep_delivers_through_the_batched_path(
    connection: AsyncConnection,
    database: ConnectionBoundDatabase,
    outbox: Table,
    statements: list[str],
) -> None:
    audit = FakeSink()
    audit.raise_next = ConnectionError("down")
    relay = relay_for(database, outbox, audit, mode="inline")
    events = await commit(database, outbox, relay, 40)  # all fail: left for the sweep
    events_by_id = {e.id: e for e in events}
    audit.refuse = {events[7].id: Failure.refusal("too large")}
    statements.clear()

    swept = await relay.sweep(older_than=timedelta(0))

    assert (swept.delivered, swept.failed) == (39, 1)
    assert len(audit.batches) == 2  # the failed delivery, then the sweep's one batch
    assert sorted(audit.batches[1], key=str) == sorted(events_by_id, key=str)
    assert len(marked_delivered(statements)) == 1
    found = await rows(connection, outbox)
    assert (found[events[7].id].attempts, found[events[7].id].last_error) == (1, "too large")


class KeepingSink(FakeSink):
    """Keeps the events themselves, as delivered."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[DomainEvent] = []

    async def deliver_many(self, events: Sequence[DomainEvent]) -> Failed:
        self.events.extend(events)
        return await super().deliver_many(events)


async def test_the_sweep_delivers_an_event_with_the_correlation_id_of_its_request(
    database: ConnectionBoundDatabase, outbox: Table
) -> None:
    """The correlation id is written with the event, so an event swept later still tells
    which request caused it."""
    sink = KeepingSink()
    sink.raise_next = ConnectionError("down")
    relay = relay_for(database, outbox, sink, mode="inline")
    token = correlation.correlation_id.set("Xk3fJhT-IAMEV8Q=")
    try:
        (written,) = await commit(database, outbox, relay, 1)
    finally:
        correlation.correlation_id.reset(token)
    assert written.correlation_id == "Xk3fJhT-IAMEV8Q="
    sink.events.clear()

    swept = await relay.sweep(older_than=timedelta(0))

    assert swept.delivered == 1
    (delivered,) = sink.events
    assert delivered.id == written.id
    assert delivered.correlation_id == "Xk3fJhT-IAMEV8Q="


async def test_the_outbox_lag_is_the_age_of_the_oldest_undelivered_event(
    connection: AsyncConnection, database: ConnectionBoundDatabase, outbox: Table
) -> None:
    sink = FakeSink()
    relay = relay_for(database, outbox, sink, mode="inline")
    assert await relay.oldest_undelivered_age() is None
    sink.raise_next = ConnectionError("down")
    await commit(database, outbox, relay, 1)
    await connection.execute(
        update(outbox).values(occurred_at=outbox.c.occurred_at - timedelta(minutes=10))
    )
    age = await relay.oldest_undelivered_age()
    assert age is not None
    assert timedelta(minutes=10) <= age < timedelta(minutes=11)
    await relay.sweep(older_than=timedelta(0))
    assert await relay.oldest_undelivered_age() is None


async def test_with_a_read_pool_all_delivered_is_one_statement_on_it(database_url: str) -> None:
    """A deployed or local database (not bound to a test's connection) has a read pool:
    a delivery without failures is recorded by one statement there, without a session;
    one with failures still records attempts in a transaction of its own."""
    schema = "relay_pool_test"
    database = Database(PlatformSettings(environment=Environment.TEST, database_url=database_url))
    table = PlatformTables.define(MetaData(schema=schema)).outbox
    async with database.engine.begin() as setup:
        await setup.execute(text(f"CREATE SCHEMA {schema}"))
        await setup.run_sync(table.metadata.create_all)
    sessions: list[object] = []
    event.listen(database.engine.sync_engine, "begin", lambda conn: sessions.append(conn))
    try:
        refused: FakeSink = FakeSink()
        relay = relay_for(database, table, refused, mode="inline")
        delivered = await commit(database, table, relay, 3)
        began = len(sessions)  # the unit of work's own transaction
        failing = new_events(2)
        refused.refuse = {failing[0].id: Failure.refusal("no thanks")}
        async with UnitOfWork(database, after_commit=[relay.after_commit]) as uow:
            writer = OutboxWriter(table, uow.session)
            for domain_event in failing:
                await writer.add(domain_event)

        async with database.engine.connect() as connection:
            found = await rows(connection, table)
        assert all(found[e.id].delivered_at is not None for e in delivered)
        assert began == 1  # marking the first three took no transaction of the engine's
        assert found[failing[1].id].delivered_at is not None
        assert found[failing[0].id].delivered_at is None
        assert (found[failing[0].id].attempts, found[failing[0].id].last_error) == (
            1,
            "no thanks",
        )
    finally:
        async with database.engine.begin() as teardown:
            await teardown.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await database.dispose()


async def left_for_the_sweep(database: Database, outbox: Table, count: int) -> list[DomainEvent]:
    """`count` events committed with no relay told of them, oldest first."""
    events = new_events(count)
    async with UnitOfWork(database) as uow:
        writer = OutboxWriter(outbox, uow.session)
        for domain_event in events:
            await writer.add(domain_event)
    return events


async def test_a_sweep_drains_the_backlog_oldest_first_in_claimed_batches(
    connection: AsyncConnection, database: ConnectionBoundDatabase, outbox: Table
) -> None:
    sink = FakeSink()
    relay = relay_for(database, outbox, sink)
    events = await left_for_the_sweep(database, outbox, 260)

    swept = await relay.sweep(older_than=timedelta(0), claim_batch=100)

    assert (swept.delivered, swept.failed) == (260, 0)
    assert [len(batch) for batch in sink.batches] == [100, 100, 60]
    assert sink.seen == [e.id for e in events]  # oldest first
    assert all(row.delivered_at is not None for row in (await rows(connection, outbox)).values())


async def test_a_sweep_stops_at_an_unavailable_sink_and_when_its_budget_is_spent(
    connection: AsyncConnection, database: ConnectionBoundDatabase, outbox: Table
) -> None:
    sink = FakeSink()
    relay = relay_for(database, outbox, sink, retry_after_min=timedelta(minutes=1))
    events = await left_for_the_sweep(database, outbox, 30)

    sink.refuse = {events[3].id: Failure.outage("ThrottlingException")}
    swept = await relay.sweep(older_than=timedelta(0), claim_batch=10)
    # The first batch met an outage: what the next would be sent now would wait on it too.
    assert (swept.delivered, swept.failed, len(sink.batches)) == (9, 1, 1)
    await connection.execute(update(outbox).values(next_attempt_at=None))  # due again

    sink.refuse = {events[3].id: Failure.refusal("ValidationException")}
    swept = await relay.sweep(older_than=timedelta(0), claim_batch=10, budget_seconds=0)
    # A refusal is the event's own: the sweep goes on, but only as long as its budget.
    assert (swept.delivered, swept.failed, len(sink.batches)) == (9, 1, 2)

    swept = await relay.sweep(older_than=timedelta(0), claim_batch=10)
    assert (swept.delivered, swept.failed) == (11, 0)  # the refused one waits its turn
    found = await rows(connection, outbox)
    assert [e.id for e in events if found[e.id].delivered_at is None] == [events[3].id]
    assert found[events[3].id].attempts == 1


async def test_a_sweep_holds_no_lock_while_it_sends_and_a_second_sweep_takes_other_events(
    database_url: str,
) -> None:
    """Each batch is claimed in a short transaction (leased by next_attempt_at): a second
    sweep, and the relay of fresh events, go on while the first one's batch is in flight."""
    schema = "relay_claim_test"
    database = Database(PlatformSettings(environment=Environment.TEST, database_url=database_url))
    table = PlatformTables.define(MetaData(schema=schema)).outbox
    async with database.engine.begin() as setup:
        await setup.execute(text(f"CREATE SCHEMA {schema}"))
        await setup.run_sync(table.metadata.create_all)
    try:
        sink = FakeSink()
        relay = relay_for(database, table, sink)
        events = await left_for_the_sweep(database, table, 6)
        sink.gate = asyncio.Event()

        first = asyncio.create_task(relay.sweep(older_than=timedelta(0), claim_batch=4))
        await sink.called.wait()
        assert sink.batches[0] == [e.id for e in events[:4]]
        gate, sink.gate = sink.gate, None  # what comes next goes through at once
        second = await asyncio.wait_for(
            relay.sweep(older_than=timedelta(0), claim_batch=4), timeout=5
        )
        assert sink.batches[1] == [e.id for e in events[4:]]  # none of the first's
        fresh = await asyncio.wait_for(commit(database, table, relay, 1), timeout=5)
        gate.set()
        swept = await first

        assert (swept.delivered, second.delivered) == (4, 2)
        assert sorted(sink.seen, key=str) == sorted([e.id for e in [*events, *fresh]], key=str)
        async with database.engine.connect() as connection:
            found = await rows(connection, table)
        assert all(row.delivered_at is not None for row in found.values())
    finally:
        async with database.engine.begin() as teardown:
            await teardown.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await database.dispose()


async def test_after_the_response_the_commit_delivers_nothing_until_asked(
    connection: AsyncConnection, database: ConnectionBoundDatabase, outbox: Table
) -> None:
    sink = FakeSink()
    relay = relay_for(database, outbox, sink, mode="after_response", batch_size=25)
    events = await commit(database, outbox, relay, 30)
    assert sink.batches == []  # the request's hook returned without delivering
    assert await relay.deliver_after_response() == 30
    assert sink.batches == [[e.id for e in events[:25]], [e.id for e in events[25:]]]
    assert all(row.delivered_at is not None for row in (await rows(connection, outbox)).values())
    assert await relay.deliver_after_response() == 0  # handed over once


async def test_a_delivery_after_the_response_that_fails_loses_nothing(
    connection: AsyncConnection, database: ConnectionBoundDatabase, outbox: Table
) -> None:
    sink = FakeSink()
    sink.raise_next = ConnectionError("DynamoDB unreachable")
    relay = relay_for(database, outbox, sink, mode="after_response")
    events = await commit(database, outbox, relay, 3)
    await relay.deliver_after_response()
    kept = await rows(connection, outbox)
    assert all(kept[e.id].delivered_at is None for e in events)
    assert all("unreachable" in kept[e.id].last_error for e in events)

    swept = await relay.sweep(older_than=timedelta(0))
    assert swept.delivered == 3
    assert all(row.delivered_at is not None for row in (await rows(connection, outbox)).values())


async def test_events_kept_when_the_extension_stopped_go_with_the_next_inline_delivery(
    connection: AsyncConnection, database: ConnectionBoundDatabase, outbox: Table
) -> None:
    sink = FakeSink()
    relay = relay_for(database, outbox, sink, mode="after_response")
    kept = await commit(database, outbox, relay, 2)
    relay.mode = "inline"  # the handler's choice once the extension is gone
    written = await commit(database, outbox, relay, 1)
    assert sink.seen == [e.id for e in [*kept, *written]]
