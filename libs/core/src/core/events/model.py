from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from core.clock import utcnow
from core.correlation import current as current_correlation_id


@dataclass(frozen=True, slots=True)
class DomainEvent:
    """Something that happened to one entity, told by the service that owns it."""

    type: str
    entity_type: str
    entity_id: str
    actor: str | None
    data: dict[str, Any]
    source: str
    id: UUID = field(default_factory=uuid4)
    occurred_at: datetime = field(default_factory=utcnow)
    # The request (or consumed event) that caused it, whatever service that was in
    # (core.correlation); None for what no request caused (a scheduled chore).
    correlation_id: str | None = field(default_factory=current_correlation_id)
    # The entity's version that the change made, as the database assigned it in the
    # statement that made the change: what orders an entity's history (its commits' order,
    # not the clocks'). None for entities that keep no version.
    entity_version: int | None = None

    def to_message(self) -> dict[str, Any]:
        return {
            "event_id": str(self.id),
            "type": self.type,
            "source": self.source,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "actor": self.actor,
            "at": self.occurred_at.isoformat(),
            "data": self.data,
            "correlation_id": self.correlation_id,
            "entity_version": self.entity_version,
        }

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> DomainEvent:
        return cls(
            id=UUID(message["event_id"]),
            type=message["type"],
            source=message["source"],
            entity_type=message["entity_type"],
            entity_id=message["entity_id"],
            actor=message.get("actor"),
            occurred_at=datetime.fromisoformat(message["at"]),
            data=message.get("data") or {},
            correlation_id=message.get("correlation_id"),
            entity_version=message.get("entity_version"),
        )
