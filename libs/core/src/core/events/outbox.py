"""Writing events in the same transaction as the change they describe.

Every way of writing an outbox row also registers its event for delivery after commit, in
the same call: an event can never be committed without the relay being told of it, nor
told of without its row having been written.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from typing import Any

import asyncpg
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from core.database.driver import driver_connection
from core.events.model import DomainEvent

PENDING_EVENTS = "core.events.pending"


# An outbox row's columns, in the order of `outbox_values`.
_COLUMNS = (
    "id",
    "type",
    "entity_type",
    "entity_id",
    "actor",
    "occurred_at",
    "data",
    "correlation_id",
    "entity_version",
)
OUTBOX_COLUMNS = f"({', '.join(_COLUMNS)})"
# The same values as bound parameters, typed: in a VALUES list nothing else types them.
_OUTBOX_TYPES = ("uuid", "text", "text", "text", "text", "timestamptz", "jsonb", "text", "int8")
ANNOUNCED = "announced"
ANNOUNCED_OUTCOME = (
    f"(SELECT jsonb_object_agg(id::text, entity_version) FROM {ANNOUNCED}) AS {ANNOUNCED}"  # noqa: S608
)
"""The outcome column of a statement that folds events in (`announce`): the rows it wrote
(event id -> entity version), NULL when it wrote none."""


@cache
def _insert_statement(table: Table) -> str:
    # Every state change writes one, so it runs on the driver connection. The names come
    # from our own metadata; the values are bound.
    return (
        f'INSERT INTO "{table.schema}"."{table.name}" {OUTBOX_COLUMNS} '  # noqa: S608
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
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
        event.entity_version,
    )


def announce(
    table: Table, *, when: str, after: int, events: int = 1, versions: str | None = None
) -> str:
    """A CTE, `announced`, for a statement that writes its events with its change: the rows
    of `events` events, bound as parameters `$after+1` onwards (in `outbox_values` order),
    written only when the CTE `when` returned a row. `versions`: a CTE of the changed
    entities' `id` and new `version`, from which an event about one of them takes its
    entity_version. The statement's outcome row selects ANNOUNCED_OUTCOME; run it with
    `OutboxWriter.fetchrow`."""
    rows = ", ".join(
        "("
        + ", ".join(
            f"${after + index * len(_OUTBOX_TYPES) + column + 1}::{kind}"
            for column, kind in enumerate(_OUTBOX_TYPES)
        )
        + ")"
        for index in range(events)
    )
    values = f"(VALUES {rows}) AS event ({', '.join(_COLUMNS)})"
    if versions is None:
        source = f"SELECT * FROM {values}"  # noqa: S608 (names of our own; values bound)
    else:
        taken = ", ".join(f"event.{column}" for column in _COLUMNS[:-1])
        source = (
            f"SELECT {taken}, coalesce(event.entity_version, versioned.version) FROM {values} "  # noqa: S608
            f"LEFT JOIN {versions} AS versioned ON versioned.id::text = event.entity_id"
        )
    return (
        f'{ANNOUNCED} AS (INSERT INTO "{table.schema}"."{table.name}" {OUTBOX_COLUMNS} '
        f"{source} WHERE EXISTS (SELECT FROM {when}) RETURNING id, entity_version)"
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
        self,
        statement: str,
        *args: Any,
        events: Sequence[DomainEvent],
        connection: asyncpg.Connection | None = None,
    ) -> Any | None:
        """Run a statement that writes `events` along with its own change (see `announce`,
        its parameters for the events following `args`) on the transaction's connection
        (or `connection`: the session's, for a statement that commits by itself,
        core.database.driver.statement_connection); its outcome row, or None. The events
        are delivered after commit exactly when the statement says it wrote them, with the
        entity versions it gave them."""
        if connection is None:
            connection = await driver_connection(self._session)
        bound = [value for event in events for value in outbox_values(event)]
        row = await connection.fetchrow(statement, *args, *bound)
        written = None if row is None else row[ANNOUNCED]
        if isinstance(written, str):  # jsonb, as the driver connection's codec hands it
            written = json.loads(written)
        if written:
            for event in events:
                version = written.get(str(event.id))
                self._pending(event if version is None else replace(event, entity_version=version))
        return row

    def _pending(self, event: DomainEvent) -> None:
        # Remembered on the session so the unit of work can hand them to the relay after commit.
        self._session.info.setdefault(PENDING_EVENTS, []).append(event)


def pending_events(session: AsyncSession) -> list[DomainEvent]:
    events: list[DomainEvent] = session.info.pop(PENDING_EVENTS, [])
    return events
