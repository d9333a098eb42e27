"""Tables every service keeps in its own schema: outbox, idempotency keys, processed events.

Each service's migrations create them like any of its own tables (autogenerate sees them).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB


@dataclass(frozen=True)
class PlatformTables:
    outbox: Table
    idempotency_keys: Table
    processed_events: Table

    @classmethod
    def define(cls, metadata: MetaData) -> PlatformTables:
        outbox = Table(
            "outbox",
            metadata,
            Column("id", Uuid, primary_key=True),
            Column("type", String(100), nullable=False),
            Column("entity_type", String(50), nullable=False),
            Column("entity_id", String(100), nullable=False),
            Column("actor", String(200)),
            Column("occurred_at", DateTime(timezone=True), nullable=False),
            Column("data", JSONB, nullable=False),
            # core.correlation: the request that caused the event, for events swept later.
            Column("correlation_id", String(128)),
            # The entity's version its change made (core.events.model), for entities that
            # keep one: the order of its history.
            Column("entity_version", BigInteger),
            Column("delivered_at", DateTime(timezone=True)),
            Column("attempts", Integer, nullable=False, server_default=text("0")),
            Column("last_error", Text),
            # When a failed event is next due (core.events.relay backs each off on its own),
            # or how long a sweep's claim on it lasts; NULL: due once the sweep's delay passed.
            Column("next_attempt_at", DateTime(timezone=True)),
            # Set when the relay gave up on an event (core.events.relay): the sweep leaves
            # it alone until it is replayed.
            Column("dead_lettered_at", DateTime(timezone=True)),
            Index(
                "ix_outbox_undelivered",
                "occurred_at",
                postgresql_where=text("delivered_at IS NULL AND dead_lettered_at IS NULL"),
            ),
            Index(
                "ix_outbox_dead_lettered",
                "dead_lettered_at",
                postgresql_where=text("dead_lettered_at IS NOT NULL"),
            ),
            # Retention: delivered events are purged by age.
            Index(
                "ix_outbox_delivered_at",
                "delivered_at",
                postgresql_where=text("delivered_at IS NOT NULL"),
            ),
        )
        idempotency_keys = Table(
            "idempotency_keys",
            metadata,
            Column("caller", String(200), nullable=False),
            Column("key", String(255), nullable=False),
            Column("request_hash", String(64), nullable=False),
            Column("state", String(20), nullable=False),
            # Whose claim it is (core.idempotency): a request that lost it to a takeover
            # can neither complete nor release it. Null only on claims made before tokens.
            Column("claim_token", Uuid),
            Column("response_status", Integer),
            Column("response_body", LargeBinary),
            Column("response_media_type", String(100)),
            Column("locked_at", DateTime(timezone=True), nullable=False),
            Column("created_at", DateTime(timezone=True), nullable=False),
            PrimaryKeyConstraint("caller", "key"),
            Index("ix_idempotency_keys_created_at", "created_at"),
        )
        processed_events = Table(
            "processed_events",
            metadata,
            Column("event_id", Uuid, primary_key=True),
            Column("event_type", String(100), nullable=False),
            Column("processed_at", DateTime(timezone=True), nullable=False),
            Index("ix_processed_events_processed_at", "processed_at"),
        )
        return cls(outbox, idempotency_keys, processed_events)
