"""svc-merchants's process-wide parts and the services built per request.

This is the composition root: the one place that ties services to their repositories.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from core.events.outbox import OutboxWriter
from core.runtime import ServiceRuntime
from svc_merchants.config import MerchantsSettings
from svc_merchants.repositories.merchants import MerchantRepository
from svc_merchants.repositories.outlets import OutletRepository
from svc_merchants.repositories.schema_model import platform_tables
from svc_merchants.services.merchants import MerchantService
from svc_merchants.services.outlets import OutletService


def _outbox(session: AsyncSession) -> OutboxWriter:
    """Events written in the request's own transaction."""
    return OutboxWriter(platform_tables.outbox, session)


@dataclass
class MerchantsComponents:
    runtime: ServiceRuntime
    settings: MerchantsSettings

    def merchants(self, session: AsyncSession) -> MerchantService:
        return MerchantService(
            merchants=MerchantRepository(session),
            events=_outbox(session),
        )

    def outlets(self, session: AsyncSession) -> OutletService:
        return OutletService(
            merchants=MerchantRepository(session),
            outlets=OutletRepository(session),
            events=_outbox(session),
            max_outlets_per_merchant=self.settings.max_outlets_per_merchant,
        )
