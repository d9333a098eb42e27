"""Writing events in the same transaction as the change they describe."""

from __future__ import annotations

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.events.model import DomainEvent

PENDING_EVENTS = "core.events.pending"


class OutboxWriter:
    def __init__(self, table: Table, session: AsyncSession) -> None:
        self._table = table
        self._session = session

    async def add(self, event: DomainEvent) -> None:
        await self._session.execute(
            insert(self._table).values(
                id=event.id,
                type=event.type,
                entity_type=event.entity_type,
                entity_id=event.entity_id,
                actor=event.actor,
                occurred_at=event.occurred_at,
                data=event.data,
            )
        )
        # Remembered on the session so the unit of work can hand them to the relay after commit.
        self._session.info.setdefault(PENDING_EVENTS, []).append(event)


def pending_events(session: AsyncSession) -> list[DomainEvent]:
    events: list[DomainEvent] = session.info.pop(PENDING_EVENTS, [])
    return events
