"""Writing events in the same transaction as the change they describe."""

from __future__ import annotations

import json
from functools import cache

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from core.database.driver import driver_connection
from core.events.model import DomainEvent

PENDING_EVENTS = "core.events.pending"


# An outbox row's columns, in the order of `outbox_values`.
OUTBOX_COLUMNS = "(id, type, entity_type, entity_id, actor, occurred_at, data)"


@cache
def _insert_statement(table: Table) -> str:
    # Every state change writes one, so it runs on the driver connection. The names come
    # from our own metadata; the values are bound.
    return (
        f'INSERT INTO "{table.schema}"."{table.name}" {OUTBOX_COLUMNS} '  # noqa: S608
        "VALUES ($1, $2, $3, $4, $5, $6, $7)"
    )


def outbox_values(event: DomainEvent) -> tuple[object, ...]:
    """The event's row, as bound values in OUTBOX_COLUMNS order, for the driver connection
    (whose jsonb codec, installed by SQLAlchemy's dialect, takes JSON text)."""
    return (
        event.id,
        event.type,
        event.entity_type,
        event.entity_id,
        event.actor,
        event.occurred_at,
        json.dumps(event.data, separators=(",", ":")),
    )


class OutboxWriter:
    def __init__(self, table: Table, session: AsyncSession) -> None:
        self._table = table
        self._session = session

    async def add(self, event: DomainEvent) -> None:
        connection = await driver_connection(self._session)
        await connection.execute(_insert_statement(self._table), *outbox_values(event))
        self.written(event)

    def written(self, event: DomainEvent) -> None:
        """An event whose row a statement of this transaction wrote itself (a repository
        that folds the row into its own statement, so that it is written exactly when the
        change is): delivered after commit like any other."""
        # Remembered on the session so the unit of work can hand them to the relay after commit.
        self._session.info.setdefault(PENDING_EVENTS, []).append(event)


def pending_events(session: AsyncSession) -> list[DomainEvent]:
    events: list[DomainEvent] = session.info.pop(PENDING_EVENTS, [])
    return events
