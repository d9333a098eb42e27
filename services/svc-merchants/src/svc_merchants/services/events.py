"""The events svc-merchants tells the platform about.

Every event's entity is the merchant, outlet events included, so that one merchant's audit
trail is one partition. svc-auth reads `merchant.verified` to make the applicant the owner.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core.auth import Principal
from core.events import DomainEvent

SOURCE = "merchants"
ENTITY_TYPE = "merchant"

MERCHANT_APPLIED = "merchant.applied"
MERCHANT_VERIFIED = "merchant.verified"
MERCHANT_UPDATED = "merchant.updated"
MERCHANT_SUSPENDED = "merchant.suspended"
MERCHANT_REINSTATED = "merchant.reinstated"
OUTLET_CREATED = "outlet.created"
OUTLET_UPDATED = "outlet.updated"
OUTLET_DELETED = "outlet.deleted"


def merchant_event(
    event_type: str, *, merchant_id: UUID, actor: Principal, data: dict[str, Any]
) -> DomainEvent:
    return DomainEvent(
        type=event_type,
        entity_type=ENTITY_TYPE,
        entity_id=str(merchant_id),
        actor=actor.subject,
        data=data,
        source=SOURCE,
    )
