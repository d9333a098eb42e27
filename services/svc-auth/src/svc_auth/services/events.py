"""The events svc-auth tells the platform about."""

from __future__ import annotations

from typing import Any

from core.auth import Principal
from core.events import DomainEvent

SOURCE = "auth"


def auth_event(
    event_type: str,
    *,
    entity_type: str,
    entity_id: object,
    actor: Principal | str | None,
    data: dict[str, Any],
) -> DomainEvent:
    actor_name = actor.subject if isinstance(actor, Principal) else actor
    return DomainEvent(
        type=event_type,
        entity_type=entity_type,
        entity_id=str(entity_id),
        actor=actor_name,
        data=data,
        source=SOURCE,
    )
