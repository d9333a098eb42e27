"""The audit trail (DynamoDB) as the services read it: a coupon's history.

core's AuditTrail raises whatever boto raises; here an unreachable or failing table (a
throttle, an outage, a missing table) becomes AuditUnavailable, a 503 with Retry-After
that the caller can act on, instead of an internal error.
"""

from __future__ import annotations

import logging
from typing import Any

from core.dynamo import is_unavailable
from svc_coupons.services.errors import AuditUnavailable
from svc_coupons.services.ports import AuditReader

logger = logging.getLogger(__name__)


class AuditHistory:
    def __init__(self, trail: AuditReader) -> None:
        self._trail = trail

    async def history(self, entity_type: str, entity_id: str) -> list[dict[str, Any]]:
        try:
            return await self._trail.history(entity_type, entity_id)
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            logger.warning("audit trail unreadable: %s", type(exc).__name__)
            raise AuditUnavailable() from exc
