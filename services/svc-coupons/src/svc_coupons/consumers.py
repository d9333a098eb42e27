"""Events from svc-merchants that make cached merchant facts stale.

Without them a suspension would take effect only when the cache entry expires; with them
it takes effect as soon as the event arrives. Evicting twice is harmless, so these need
no record of processed events.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from core.events import DomainEvent
from svc_coupons.components import CouponsComponents
from svc_coupons.repositories.merchant_directory import merchant_key, outlets_key

STALE_ON: dict[str, Callable[[UUID], str]] = {
    "merchant.suspended": merchant_key,
    "merchant.reinstated": merchant_key,
    "merchant.updated": merchant_key,
    "outlet.created": outlets_key,
    "outlet.updated": outlets_key,
    "outlet.deleted": outlets_key,
}


def consumers(parts: CouponsComponents) -> dict[str, Callable[[DomainEvent], Awaitable[bool]]]:
    async def forget(event: DomainEvent) -> bool:
        # Every merchant event names the merchant as its entity.
        await parts.merchant_cache.delete(STALE_ON[event.type](UUID(event.entity_id)))
        return True

    return dict.fromkeys(STALE_ON, forget)
