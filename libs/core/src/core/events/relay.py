"""Delivering outbox events after commit, and sweeping up what a failure left behind."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from core.database.engine import Database
from core.events.model import DomainEvent
from core.events.outbox import pending_events
from core.events.sinks import EventSink

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SweepResult:
    delivered: int
    failed: int


class OutboxRelay:
    def __init__(
        self, *, database: Database, table: Table, source: str, sinks: Sequence[EventSink]
    ) -> None:
        self._database = database
        self._table = table
        self._source = source
        self._sinks = sinks

    async def after_commit(self, session: AsyncSession) -> None:
        """Unit-of-work hook: deliver what the committed transaction wrote."""
        events = pending_events(session)
        if events:
            await self.deliver(events)

    async def _deliver_one(self, event: DomainEvent) -> str | None:
        try:
            for sink in self._sinks:
                await sink.deliver(event)
        except Exception as exc:
            logger.warning("event %s (%s) not delivered: %r", event.id, event.type, exc)
            return repr(exc)[:500]
        return None

    async def deliver(self, events: Sequence[DomainEvent]) -> None:
        delivered: list[UUID] = []
        failed: dict[UUID, str] = {}
        for event in events:
            error = await self._deliver_one(event)
            if error is None:
                delivered.append(event.id)
            else:
                failed[event.id] = error
        async with self._database.transaction() as session:
            await self._record(session, delivered, failed)

    async def _record(
        self, session: AsyncSession, delivered: list[UUID], failed: dict[UUID, str]
    ) -> None:
        table = self._table
        if delivered:
            await session.execute(
                update(table).where(table.c.id.in_(delivered)).values(delivered_at=utcnow())
            )
        for event_id, error in failed.items():
            await session.execute(
                update(table)
                .where(table.c.id == event_id)
                .values(attempts=table.c.attempts + 1, last_error=error)
            )

    async def sweep(
        self, *, older_than: timedelta = timedelta(seconds=30), batch: int = 100
    ) -> SweepResult:
        """Deliver events left undelivered; safe to run from several places at once."""
        table = self._table
        async with self._database.transaction() as session:
            rows = (
                await session.execute(
                    select(table)
                    .where(table.c.delivered_at.is_(None))
                    .where(table.c.occurred_at < utcnow() - older_than)
                    .order_by(table.c.occurred_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            delivered: list[UUID] = []
            failed: dict[UUID, str] = {}
            for row in rows:
                event = DomainEvent(
                    id=row.id,
                    type=row.type,
                    entity_type=row.entity_type,
                    entity_id=row.entity_id,
                    actor=row.actor,
                    occurred_at=row.occurred_at,
                    data=row.data,
                    source=self._source,
                )
                error = await self._deliver_one(event)
                if error is None:
                    delivered.append(event.id)
                else:
                    failed[event.id] = error
            await self._record(session, delivered, failed)
        return SweepResult(delivered=len(delivered), failed=len(failed))
