"""Writing events in the same transaction as the change they describe."""

from __future__ import annotations

import json
from functools import cache

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from core.database.driver import driver_connection
from core.events.model import DomainEvent

PENDING_EVENTS = "core.events.pending"


@cache
def _insert_statement(table: Table) -> str:
    # Every state change writes one, so it runs on the driver connection. The names come
    # from our own metadata; the values are bound.
    return (
        f'INSERT INTO "{table.schema}"."{table.name}" '  # noqa: S608
        "(id, type, entity_type, entity_id, actor, occurred_at, data) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )


class OutboxWriter:
    def __init__(self, table: Table, session: AsyncSession) -> None:
        self._table = table
        self._session = session

    async def add(self, event: DomainEvent) -> None:
        connection = await driver_connection(self._session)
        await connection.execute(
            _insert_statement(self._table),
            event.id,
            event.type,
            event.entity_type,
            event.entity_id,
            event.actor,
            event.occurred_at,
            # The jsonb codec SQLAlchemy's dialect installs takes JSON text.
            json.dumps(event.data, separators=(",", ":")),
        )
        # Remembered on the session so the unit of work can hand them to the relay after commit.
        self._session.info.setdefault(PENDING_EVENTS, []).append(event)


def pending_events(session: AsyncSession) -> list[DomainEvent]:
    events: list[DomainEvent] = session.info.pop(PENDING_EVENTS, [])
    return events
