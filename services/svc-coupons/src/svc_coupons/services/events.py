"""The events svc-coupons tells the platform about. Coupon codes never appear in them."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core.auth import Principal
from core.events import DomainEvent

SOURCE = "coupons"


def _actor(actor: Principal | str | None) -> str | None:
    return actor.subject if isinstance(actor, Principal) else actor


def coupon_event(
    event_type: str,
    *,
    coupon_id: UUID,
    actor: Principal | str | None,
    data: dict[str, Any],
    version: int | None = None,
) -> DomainEvent:
    """Keyed by the coupon, so its history is one audit partition. `version`: the coupon's,
    as the change returned it; an event written in the change's own statement gets it
    there instead (core.events.outbox.announce)."""
    return DomainEvent(
        type=event_type,
        entity_type="coupon",
        entity_id=str(coupon_id),
        actor=_actor(actor),
        data=data,
        source=SOURCE,
        entity_version=version,
    )


def campaign_event(
    event_type: str, *, campaign_id: UUID, actor: Principal | str | None, data: dict[str, Any]
) -> DomainEvent:
    return DomainEvent(
        type=event_type,
        entity_type="campaign",
        entity_id=str(campaign_id),
        actor=_actor(actor),
        data=data,
        source=SOURCE,
    )
