"""A campaign's unassigned codes for a CSV download, streamed in keyset batches.

The response body is sent after the request's unit of work has ended, so each batch is
read in a short transaction of its own; at no point are all codes held in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

from sqlalchemy import select

from core.database import Database
from svc_coupons.repositories.schema_model import CouponRow
from svc_coupons.services.data_model.coupons import CouponStatus


class UnassignedCodeExport:
    def __init__(self, database: Database, *, batch_size: int) -> None:
        self._database = database
        self._batch_size = batch_size

    async def batches(self, campaign_id: UUID) -> AsyncIterator[list[str]]:
        after = ""
        while True:
            async with self._database.transaction() as session:
                codes = list(
                    (
                        await session.execute(
                            select(CouponRow.code)
                            .where(
                                CouponRow.campaign_id == campaign_id,
                                CouponRow.status == CouponStatus.UNASSIGNED.value,
                                CouponRow.code > after,
                            )
                            .order_by(CouponRow.code)
                            .limit(self._batch_size)
                        )
                    ).scalars()
                )
            if not codes:
                return
            yield codes
            if len(codes) < self._batch_size:
                return
            after = codes[-1]
