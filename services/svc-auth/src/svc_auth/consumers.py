"""Events from other services that svc-auth acts on."""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from core.events import DomainEvent
from core.events.consumer import IdempotentConsumer
from svc_auth.components import AuthComponents
from svc_auth.repositories.schema_model import platform_tables

MERCHANT_VERIFIED = "merchant.verified"


def consumers(parts: AuthComponents) -> dict[str, IdempotentConsumer]:
    async def grant_owner(session: AsyncSession, event: DomainEvent) -> None:
        await parts.memberships(session).grant_owner(
            merchant_id=UUID(event.data["merchant_id"]),
            owner_user_id=UUID(event.data["owner_user_id"]),
            actor=event.actor,
        )

    return {
        MERCHANT_VERIFIED: IdempotentConsumer(
            unit_of_work=parts.runtime.unit_of_work,
            processed=platform_tables.processed_events,
            effect=grant_owner,
        )
    }
