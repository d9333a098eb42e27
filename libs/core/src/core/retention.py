"""Keeping the platform tables from growing forever: the scheduled sweep purges delivered
outbox events, Idempotency-Keys past their replay window, and consumed event ids past any
redelivery, each by age and in bounded batches (one short statement per table per sweep,
so a backlog shrinks over a few sweeps instead of locking a table for long).

Undelivered and dead-lettered events are never purged: they are the ones someone needs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import ColumnElement, Table, delete, literal_column, select

from core.clock import utcnow
from core.config import PlatformSettings
from core.database.engine import Database
from core.database.platform_tables import PlatformTables

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    outbox: int
    idempotency_keys: int
    processed_events: int


async def _purge(database: Database, table: Table, older: ColumnElement[bool], batch: int) -> int:
    """At most `batch` rows matching `older`, found by the condition's own index and
    deleted by their physical address."""
    row: ColumnElement[str] = literal_column("ctid")
    async with database.transaction() as session:
        result = await session.execute(
            delete(table).where(row.in_(select(row).select_from(table).where(older).limit(batch)))
        )
    return int(getattr(result, "rowcount", 0) or 0)


async def purge_expired(
    database: Database, tables: PlatformTables, settings: PlatformSettings
) -> Purged:
    now = utcnow()
    batch = settings.retention_batch_size
    outbox = tables.outbox
    purged = Purged(
        outbox=await _purge(
            database,
            outbox,
            outbox.c.delivered_at < now - timedelta(days=settings.outbox_retention_days),
            batch,
        ),
        idempotency_keys=await _purge(
            database,
            tables.idempotency_keys,
            tables.idempotency_keys.c.created_at
            < now - timedelta(hours=settings.idempotency_key_retention_hours),
            batch,
        ),
        processed_events=await _purge(
            database,
            tables.processed_events,
            tables.processed_events.c.processed_at
            < now - timedelta(days=settings.processed_event_retention_days),
            batch,
        ),
    )
    if purged.outbox or purged.idempotency_keys or purged.processed_events:
        logger.info("retention: purged %s", purged)
    return purged
