"""Writing events in the same transaction as the change they describe.

Every way of writing an outbox row also registers its event for delivery after commit, in
the same call: an event can never be committed without the relay being told of it, nor
told of without its row having been written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from core.database.driver import driver_connection
from core.events.model import DomainEvent

PENDING_EVENTS = "core.events.pending"


# An outbox row's columns, in the order of `outbox_values`.
OUTBOX_COLUMNS = "(id, type, entity_type, entity_id, actor, occurred_at, data, correlation_id)"
# The same values as bound parameters, typed: in a VALUES list nothing else types them.
_OUTBOX_TYPES = ("uuid", "text", "text", "text", "text", "timestamptz", "jsonb", "text")
ANNOUNCED = "announced"
"""The outcome column of a statement that folds events in (`announce`): whether it wrote
their rows."""


@cache
def _insert_statement(table: Table) -> str:
    # Every state change writes one, so it runs on the driver connection. The names come
    # from our own metadata; the values are bound.
    return (
        f'INSERT INTO "{table.schema}"."{table.name}" {OUTBOX_COLUMNS} '  # noqa: S608
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
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
        event.correlation_id,
    )


def announce(table: Table, *, when: str, after: int, events: int = 1) -> str:
    """A CTE, `announced`, for a statement that writes its events with its change: the rows
    of `events` events, bound as parameters `$after+1` onwards (in `outbox_values` order),
    written only when the CTE `when` returned a row. The statement's outcome row selects
    `EXISTS (SELECT FROM announced) AS announced`; run it with `OutboxWriter.fetchrow`."""
    rows = ", ".join(
        "("
        + ", ".join(
            f"${after + index * len(_OUTBOX_TYPES) + column + 1}::{kind}"
            for column, kind in enumerate(_OUTBOX_TYPES)
        )
        + ")"
        for index in range(events)
    )
    return (
        f'{ANNOUNCED} AS (INSERT INTO "{table.schema}"."{table.name}" {OUTBOX_COLUMNS} '  # noqa: S608
        f"SELECT * FROM (VALUES {rows}) AS event WHERE EXISTS (SELECT FROM {when}) "
        "RETURNING id)"
    )


class OutboxWriter:
    def __init__(self, table: Table, session: AsyncSession) -> None:
        self._table = table
        self._session = session

    async def add(self, event: DomainEvent) -> None:
        connection = await driver_connection(self._session)
        await connection.execute(_insert_statement(self._table), *outbox_values(event))
        self._pending(event)

    async def fetchrow(
        self, statement: str, *args: Any, events: Sequence[DomainEvent]
    ) -> Any | None:
        """Run a statement that writes `events` along with its own change (see `announce`,
        its parameters for the events following `args`) on the transaction's connection;
        its outcome row, or None. The events are delivered after commit exactly when the
        statement says it wrote them."""
        connection = await driver_connection(self._session)
        bound = [value for event in events for value in outbox_values(event)]
        row = await connection.fetchrow(statement, *args, *bound)
        if row is not None and row[ANNOUNCED]:
            for event in events:
                self._pending(event)
        return row

    def _pending(self, event: DomainEvent) -> None:
        # Remembered on the session so the unit of work can hand them to the relay after commit.
        self._session.info.setdefault(PENDING_EVENTS, []).append(event)


def pending_events(session: AsyncSession) -> list[DomainEvent]:
    events: list[DomainEvent] = session.info.pop(PENDING_EVENTS, [])
    return events
