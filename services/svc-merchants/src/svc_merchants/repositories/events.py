from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.events import DomainEvent
from core.events.outbox import OutboxWriter
from svc_merchants.repositories.schema_model import platform_tables


class OutboxEventLog:
    def __init__(self, session: AsyncSession) -> None:
        self._writer = OutboxWriter(platform_tables.outbox, session)

    async def add(self, event: DomainEvent) -> None:
        await self._writer.add(event)
