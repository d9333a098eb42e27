from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from sqlalchemy import func, select, update

from core.database.repository import RepositoryBase
from svc_coupons.repositories.schema_model import RedemptionRow
from svc_coupons.services.data_model.coupons import Coupon, Redemption


def to_redemption(row: RedemptionRow) -> Redemption:
    return Redemption(
        id=row.id,
        coupon_id=row.coupon_id,
        campaign_id=row.campaign_id,
        outlet_id=row.outlet_id,
        order_reference=row.order_reference,
        order_amount=row.order_amount,
        discount_amount=row.discount_amount,
        redeemed_at=row.redeemed_at,
    )


class RedemptionRepository(RepositoryBase[RedemptionRow]):
    row_type = RedemptionRow

    async def add(
        self,
        *,
        coupon: Coupon,
        outlet_id: UUID,
        order_reference: str | None,
        order_amount: int | None,
        discount_amount: int | None,
        redeemed_by: str,
        now: datetime,
    ) -> Redemption:
        row = await self._add_row(
            RedemptionRow(
                id=uuid4(),
                coupon_id=coupon.id,
                campaign_id=coupon.campaign_id,
                merchant_id=coupon.merchant_id,
                outlet_id=outlet_id,
                order_reference=order_reference,
                order_amount=order_amount,
                discount_amount=discount_amount,
                redeemed_by=redeemed_by,
                redeemed_at=now,
            )
        )
        return to_redemption(row)

    async def live_for(self, coupon_id: UUID) -> Redemption | None:
        row = (
            await self.session.execute(
                select(RedemptionRow).where(
                    RedemptionRow.coupon_id == coupon_id, RedemptionRow.reversed_at.is_(None)
                )
            )
        ).scalar_one_or_none()
        return to_redemption(row) if row else None

    async def reverse(
        self, *, redemption_id: UUID, reversed_by: str, reason: str, now: datetime
    ) -> bool:
        reversed_ = await self.session.execute(
            update(RedemptionRow)
            .where(RedemptionRow.id == redemption_id, RedemptionRow.reversed_at.is_(None))
            .values(reversed_at=now, reversed_by=reversed_by, reversal_reason=reason)
            .returning(RedemptionRow.id)
        )
        return reversed_.first() is not None

    async def redeemed_by_outlet(self, campaign_id: UUID) -> list[tuple[UUID, int]]:
        rows = await self.session.execute(
            select(RedemptionRow.outlet_id, func.count())
            .where(RedemptionRow.campaign_id == campaign_id, RedemptionRow.reversed_at.is_(None))
            .group_by(RedemptionRow.outlet_id)
            .order_by(func.count().desc(), RedemptionRow.outlet_id)
        )
        return [(outlet_id, count) for outlet_id, count in rows]
