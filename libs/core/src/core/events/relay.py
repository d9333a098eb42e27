"""Delivering outbox events after commit, and sweeping up what a failure left behind.

Two modes (`PlatformSettings.event_delivery`):

- inline: `after_commit` delivers the transaction's events before it returns. AWS Lambda
  needs it: the execution environment freezes once the response is returned, so work
  left for later would not run (core.aws_lambda forces it).
- background: `after_commit` hands the events to the relay's delivery worker, an asyncio
  task started on first use in the running loop, and returns at once. The worker takes
  what is queued, up to `batch_size` events (under load, after waiting `linger` for a
  batch to fill), delivers them and marks their rows in one short transaction; while a
  batch is in flight the next one forms in the queue. When the
  queue is full the events stay in the outbox for the sweep. `aclose()` on shutdown
  delivers what is queued.

- after_response (AWS Lambda with its delivery extension, core.aws_lambda.extension):
  `after_commit` keeps the events; the extension delivers them with
  `deliver_after_response` once the handler has returned, before the environment may
  freeze.

Whichever way, an event is delivered only after its row committed, failures are recorded on
the row (last_error, and when it is next due, `next_attempt_at`), and the sweep retries
them; sinks and consumers take a redelivered event as a no-op, by its id. Each failed
event backs off on its own: it waits as long again as it has already waited (so the wait
doubles), at least `retry_after_min`, at most `retry_after_max`, with jitter, so an outage
is not hammered and a backlog does not come back in lockstep.

Only a refusal of the event itself (a sink's `Failure.event_refused`: malformed, too
large, a consumer that cannot handle it) counts an attempt; an unavailable sink
(unreachable, timed out, throttled, failing, its breaker open) counts nothing, however
long it lasts. An event refused `max_attempts` times is dead-lettered: marked on its row,
logged once, counted, left alone by the sweep, and delivered again only when `replay` is
asked to.

The sweep drains: oldest first, it claims `claim_batch` due events in a short transaction
of their own (FOR UPDATE SKIP LOCKED, then leased by `next_attempt_at` for the time the
send may take, so concurrent sweeps take different events and no row lock is held while
the sinks are called), delivers them, records the outcome, and goes on until nothing is
due, its time budget is spent, or a sink is unavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Float,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from core.config import EventDelivery
from core.database.engine import Database
from core.events.model import DomainEvent
from core.events.outbox import pending_events
from core.events.sinks import EventSink, Failed, aws_failure

logger = logging.getLogger(__name__)

# How this process delivers: a setting (EventDelivery), or, in Lambda, inline or after the
# response (core.aws_lambda chooses per invocation).
RelayMode = EventDelivery | Literal["after_response"]

BATCH_SIZE = 25  # DynamoDB's BatchWriteItem limit: one audit call per batch
LINGER_SECONDS = 0.1  # how long a batch under load waits to fill
QUEUE_SIZE = 10_000
CLOSE_TIMEOUT_SECONDS = 10.0
MAX_ERROR_LENGTH = 500


MAX_ATTEMPTS = 10
RETRY_AFTER_MIN = timedelta(seconds=30)
RETRY_AFTER_MAX = timedelta(minutes=5)
CLAIM_BATCH = 250  # a sweep's claim: ten BatchWriteItem calls, 25 PutEvents calls
SWEEP_BUDGET_SECONDS = 10.0
# How long a sweep's claim keeps other sweeps off its events while it sends them: longer
# than any function that sweeps may run, so a sweep cut off mid-send leaves its events to
# the next one after this, and only then.
CLAIM_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class SweepResult:
    delivered: int
    failed: int
    dead_lettered: int = 0  # given up on by this sweep


class OutboxRelay:
    def __init__(
        self,
        *,
        database: Database,
        table: Table,
        source: str,
        sinks: Sequence[EventSink],
        mode: EventDelivery = "inline",
        batch_size: int = BATCH_SIZE,
        linger: float = LINGER_SECONDS,
        queue_size: int = QUEUE_SIZE,
        close_timeout: float = CLOSE_TIMEOUT_SECONDS,
        max_attempts: int = MAX_ATTEMPTS,
        retry_after_min: timedelta = RETRY_AFTER_MIN,
        retry_after_max: timedelta = RETRY_AFTER_MAX,
    ) -> None:
        self._database = database
        self._table = table
        self._source = source
        self._sinks = sinks
        self.mode: RelayMode = mode
        self._batch_size = batch_size
        self._linger = linger
        self._queue_size = queue_size
        self._close_timeout = close_timeout
        self._max_attempts = max_attempts
        self._retry_after_min = retry_after_min
        self._retry_after_max = max(retry_after_max, retry_after_min)
        self._queue: asyncio.Queue[DomainEvent] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._after_response: list[DomainEvent] = []
        # Quoted as the outbox's insert is (core.events.outbox): our own names; values bound.
        marked = "SET delivered_at = $2 WHERE id = ANY($1::uuid[])"
        self._mark_delivered = f'UPDATE "{table.schema}"."{table.name}" {marked}'

    async def after_commit(self, session: AsyncSession) -> None:
        """Unit-of-work hook: deliver what the committed transaction wrote."""
        events = pending_events(session)
        if not events:
            return
        if self.mode == "after_response":
            self._after_response.extend(events)
        elif self.mode == "inline":
            # With any events a stopped extension left behind, rather than at the sweep's pace.
            await self.deliver([*self._take_after_response(), *events])
        else:
            self.enqueue(events)

    # --- delivery after the response (Lambda) -------------------------------------------

    def _take_after_response(self) -> list[DomainEvent]:
        events, self._after_response = self._after_response, []
        return events

    async def deliver_after_response(self) -> int:
        """Deliver what the committed transactions kept for after the response, a batch at
        a time; a batch that fails is left to the sweep (its rows say so) and the next one
        is still tried. How many events were handed over."""
        events = self._take_after_response()
        for start in range(0, len(events), self._batch_size):
            batch = events[start : start + self._batch_size]
            try:
                await self.deliver(batch)
            except Exception:
                logger.exception(
                    "%s outbox relay: delivering %d events after the response failed; the"
                    " sweep will retry",
                    self._source,
                    len(batch),
                )
        return len(events)

    # --- background delivery ----------------------------------------------------------

    def enqueue(self, events: Sequence[DomainEvent]) -> None:
        """Hand events to the delivery worker; never blocks and never raises for a full queue."""
        queue = self._running_queue()
        for index, event in enumerate(events):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                logger.warning(
                    "%s outbox relay: queue full, %d events left to the sweep",
                    self._source,
                    len(events) - index,
                )
                return

    def _running_queue(self) -> asyncio.Queue[DomainEvent]:
        loop = asyncio.get_running_loop()
        worker = self._worker
        if self._queue is None or worker is None or worker.done() or worker.get_loop() is not loop:
            # First use, or a new loop (whatever an old loop's queue held is in the outbox).
            # A fresh context: the worker outlives the request that started it, and must
            # not log under that request's id.
            self._queue = asyncio.Queue(maxsize=self._queue_size)
            self._worker = loop.create_task(
                self._work(self._queue),
                name=f"outbox-relay-{self._source}",
                context=contextvars.Context(),
            )
        return self._queue

    async def _work(self, queue: asyncio.Queue[DomainEvent]) -> None:
        while True:
            # An idle relay sends the first event at once. Under load (events waiting when
            # the last batch is done) a batch that is not full waits `linger` for more:
            # a call to DynamoDB costs about the same for 2 events as for 25.
            under_load = not queue.empty()
            batch = [await queue.get()]
            if under_load and queue.qsize() < self._batch_size - 1:
                await asyncio.sleep(self._linger)
            while len(batch) < self._batch_size and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                await self.deliver(batch)
            except Exception:
                logger.exception(
                    "%s outbox relay: delivering %d events failed; the sweep will retry",
                    self._source,
                    len(batch),
                )
            finally:
                for _ in batch:
                    queue.task_done()

    def _own_worker(self) -> tuple[asyncio.Queue[DomainEvent], asyncio.Task[None]] | None:
        """The queue and worker, when the worker runs on the current loop."""
        queue, worker = self._queue, self._worker
        if queue is None or worker is None or worker.done():
            return None
        if worker.get_loop() is not asyncio.get_running_loop():
            return None
        return queue, worker

    async def flush(self) -> None:
        """Wait until everything queued so far is delivered (or recorded as failed)."""
        own = self._own_worker()
        if own is not None:
            await own[0].join()

    async def aclose(self) -> None:
        """Deliver what is queued, for at most `close_timeout` seconds, then stop the worker.

        Called on shutdown; whatever is still queued after the timeout is left to the
        sweep. A later commit starts a new worker.
        """
        own = self._own_worker()
        self._queue, self._worker = None, None
        if own is None:
            return
        queue, worker = own
        try:
            await asyncio.wait_for(queue.join(), self._close_timeout)
        except TimeoutError:
            logger.warning(
                "%s outbox relay: %d events still queued at shutdown, left to the sweep",
                self._source,
                queue.qsize(),
            )
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    # --- delivery and its record -------------------------------------------------------

    async def _send(self, events: Sequence[DomainEvent]) -> Failed:
        """Every sink in turn; an event one sink did not take goes to none after it."""
        failed: Failed = {}
        remaining = list(events)
        for sink in self._sinks:
            if not remaining:
                break
            try:
                refused = await sink.deliver_many(remaining)
            except Exception as exc:
                failure = aws_failure(exc)
                refused = {event.id: failure for event in remaining}
            if refused:
                logger.warning(
                    "%s outbox relay: %d of %d events not delivered to %s: %s",
                    self._source,
                    len(refused),
                    len(remaining),
                    type(sink).__name__,
                    next(iter(refused.values())).reason,
                )
                failed |= refused
                remaining = [event for event in remaining if event.id not in refused]
        return failed

    async def deliver(self, events: Sequence[DomainEvent]) -> None:
        """Deliver, then record the outcome of every event in one short transaction."""
        await self._deliver(events)

    async def _deliver(self, events: Sequence[DomainEvent]) -> tuple[Failed, int]:
        """`deliver`: what was not delivered, and how many of those were dead-lettered."""
        failed = await self._send(events)
        delivered = [event.id for event in events if event.id not in failed]
        reads = self._database.reads
        if not failed and reads is not None:
            # All delivered, the common case: one statement, which needs no transaction of
            # its own, so it runs as the reads' do, on their pool, without a session
            # (in Lambda, where every write delivers inline, a BEGIN, an ORM statement and
            # a COMMIT less per invocation).
            async with reads.connection() as connection:
                await connection.execute(self._mark_delivered, delivered, utcnow())
            return failed, 0
        async with self._database.transaction() as session:
            given_up = await self._record(session, delivered, failed)
        return failed, given_up

    async def _record(self, session: AsyncSession, delivered: list[UUID], failed: Failed) -> int:
        """Mark the delivered; put the failed off, counting an attempt on those the event's
        own fault failed; how many of those it gave up on (dead-lettered) just now."""
        table = self._table
        now = utcnow()
        if delivered:
            await session.execute(
                update(table).where(table.c.id.in_(delivered)).values(delivered_at=now)
            )
        # One statement per distinct failure: a batch mostly fails for one reason.
        by_failure: dict[tuple[str, bool], list[UUID]] = defaultdict(list)
        for event_id, failure in failed.items():
            by_failure[failure.reason[:MAX_ERROR_LENGTH], failure.event_refused].append(event_id)
        given_up = 0
        for (error, event_refused), event_ids in by_failure.items():
            values: dict[str, Any] = {
                "last_error": error,
                "next_attempt_at": self._next_attempt(now),
            }
            if event_refused:
                exhausted = table.c.attempts + 1 >= self._max_attempts
                values |= {
                    "attempts": table.c.attempts + 1,
                    "dead_lettered_at": case((exhausted, now), else_=None),
                }
            rows = await session.execute(
                update(table)
                .where(table.c.id.in_(event_ids), table.c.dead_lettered_at.is_(None))
                .values(values)
                .returning(table.c.id, table.c.type, table.c.dead_lettered_at)
            )
            for row in rows:
                if row.dead_lettered_at is not None:
                    given_up += 1
                    logger.error(
                        "%s outbox relay: event %s (%s) dead-lettered after %d attempts: %s",
                        self._source,
                        row.id,
                        row.type,
                        self._max_attempts,
                        error,
                    )
        return given_up

    def _next_attempt(self, now: datetime) -> ColumnElement[datetime]:
        """When a failed event is next due: it waits as long again as it has waited since
        it occurred (so each wait doubles the last), within the bounds, times a jitter
        between one half and one, drawn per row."""
        table = self._table
        now_epoch = literal(now.timestamp(), Float)
        waited = now_epoch - cast(func.extract("epoch", table.c.occurred_at), Float)
        low = literal(self._retry_after_min.total_seconds(), Float)
        high = literal(self._retry_after_max.total_seconds(), Float)
        seconds = func.least(high, func.greatest(low, waited)) * (0.5 + func.random() / 2)
        return func.to_timestamp(now_epoch + seconds)

    async def dead_lettered(self) -> int:
        """How many events the relay has given up on (and not yet replayed)."""
        table = self._table
        async with self._database.transaction() as session:
            count: int = (
                await session.scalar(
                    select(func.count())
                    .select_from(table)
                    .where(table.c.dead_lettered_at.is_not(None))
                )
                or 0
            )
        return count

    async def replay(self, event_ids: Sequence[UUID] | None = None) -> int:
        """Give dead-lettered events (these, or all) a fresh set of attempts: the next sweep
        delivers them (each consumer still takes one it has seen as a no-op). How many."""
        table = self._table
        condition: ColumnElement[bool] = table.c.dead_lettered_at.is_not(None)
        if event_ids is not None:
            condition = and_(condition, table.c.id.in_(list(event_ids)))
        async with self._database.transaction() as session:
            rows = await session.execute(
                update(table)
                .where(condition)
                .values(dead_lettered_at=None, attempts=0, next_attempt_at=None)
                .returning(table.c.id)
            )
            replayed = len(rows.all())
        logger.info("%s outbox relay: %d dead-lettered events replayed", self._source, replayed)
        return replayed

    async def oldest_undelivered_age(self) -> timedelta | None:
        """How long the oldest event still due for delivery has waited (dead letters
        aside: they wait for a replay); None when every event was delivered."""
        table = self._table
        async with self._database.transaction() as session:
            oldest = await session.scalar(
                select(func.min(table.c.occurred_at))
                .where(table.c.delivered_at.is_(None))
                .where(table.c.dead_lettered_at.is_(None))
            )
        return None if oldest is None else utcnow() - oldest

    async def sweep(
        self,
        *,
        older_than: timedelta = timedelta(seconds=30),
        claim_batch: int = CLAIM_BATCH,
        budget_seconds: float = SWEEP_BUDGET_SECONDS,
    ) -> SweepResult:
        """Deliver the events left undelivered that are due, oldest first, batch after
        batch, until none is due, `budget_seconds` are spent, or a sink is unavailable
        (what it would be sent now would only be put off again). Safe to run from several
        places at once: each claims its own events."""
        deadline = time.monotonic() + budget_seconds
        delivered = failed = given_up = 0
        while True:
            events = await self._claim(older_than, claim_batch)
            if not events:
                break
            outcome, dead = await self._deliver(events)
            delivered += len(events) - len(outcome)
            failed += len(outcome) - dead
            given_up += dead
            unavailable = any(not failure.event_refused for failure in outcome.values())
            if unavailable or len(events) < claim_batch or time.monotonic() >= deadline:
                break
        return SweepResult(delivered=delivered, failed=failed, dead_lettered=given_up)

    async def _claim(self, older_than: timedelta, limit: int) -> list[DomainEvent]:
        """The oldest due events, at most `limit`, taken off other sweeps for CLAIM_LEASE
        in a transaction of their own."""
        table = self._table
        now = utcnow()
        due = (
            select(table.c.id)
            .where(table.c.delivered_at.is_(None), table.c.dead_lettered_at.is_(None))
            .where(table.c.occurred_at < now - older_than)
            .where(or_(table.c.next_attempt_at.is_(None), table.c.next_attempt_at <= now))
            .order_by(table.c.occurred_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._database.transaction() as session:
            rows = (
                await session.execute(
                    update(table)
                    .where(table.c.id.in_(due))
                    .values(next_attempt_at=now + CLAIM_LEASE)
                    .returning(*table.c)
                )
            ).all()
        # RETURNING keeps no order: sent oldest first, as claimed.
        return [
            DomainEvent(
                id=row.id,
                type=row.type,
                entity_type=row.entity_type,
                entity_id=row.entity_id,
                actor=row.actor,
                occurred_at=row.occurred_at,
                data=row.data,
                correlation_id=row.correlation_id,
                entity_version=row.entity_version,
                source=self._source,
            )
            for row in sorted(rows, key=lambda row: row.occurred_at)
        ]
