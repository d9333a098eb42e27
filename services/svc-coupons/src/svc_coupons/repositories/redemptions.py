from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import func, select, update

from core.database.repository import RepositoryBase
from core.events import DomainEvent
from core.events.outbox import ANNOUNCED_OUTCOME, OutboxWriter, announce
from svc_coupons.repositories.coupons import coupon_from
from svc_coupons.repositories.schema_model import RedemptionRow, platform_tables
from svc_coupons.services.data_model.coupons import Coupon, Redemption

# The whole redemption in one statement, run on the driver connection: the coupon goes
# from active and unexpired to redeemed only while its campaign is active and started (no
# check of its end: a coupon expires by then at the latest); the redemption and its event
# are recorded and the campaign counts it only if that happened. Of concurrent redeems of
# one coupon, the row lock lets one through; the others find it redeemed and change nothing.
# The code is part of the condition: a coupon swapped or gifted since it was read has a new
# one, and is not redeemed by its old code.
REDEEM = f"""
WITH redeemed AS (
    UPDATE coupons.coupons coupon SET status = 'redeemed', redeemed_at = $2,
        version = coupon.version + 1
    WHERE coupon.id = $1 AND coupon.code = $9 AND coupon.status = 'active'
      AND coupon.expires_at > $2
      AND EXISTS (SELECT FROM coupons.campaigns live WHERE live.id = coupon.campaign_id
                  AND live.status = 'active' AND live.starts_at <= $2)
    RETURNING coupon.*
), receipt AS (
    INSERT INTO coupons.redemptions (id, coupon_id, campaign_id, merchant_id, outlet_id,
        order_reference, order_amount, discount_amount, redeemed_by, redeemed_at)
    SELECT $3, id, campaign_id, merchant_id, $4, $5, $6, $7, $8, $2 FROM redeemed
), counted AS (
    UPDATE coupons.campaigns campaign SET redeemed_count = campaign.redeemed_count + 1
    FROM redeemed WHERE campaign.id = redeemed.campaign_id
), {announce(platform_tables.outbox, when="redeemed", after=9, versions="redeemed")}
SELECT *, {ANNOUNCED_OUTCOME} FROM redeemed
"""  # noqa: S608 (only our own table names go in; values are bound)


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

    async def redeem(
        self,
        *,
        coupon: Coupon,
        redemption_id: UUID,
        outlet_id: UUID,
        order_reference: str | None,
        order_amount: int | None,
        discount_amount: int | None,
        redeemed_by: str,
        now: datetime,
        event: DomainEvent,
    ) -> tuple[Coupon, Redemption] | None:
        row = await OutboxWriter(platform_tables.outbox, self.session).fetchrow(
            REDEEM,
            coupon.id,
            now,
            redemption_id,
            outlet_id,
            order_reference,
            order_amount,
            discount_amount,
            redeemed_by,
            coupon.code,
            events=(event,),
        )
        if row is None:
            return None
        redeemed = coupon_from(row)
        return redeemed, Redemption(
            id=redemption_id,
            coupon_id=redeemed.id,
            campaign_id=redeemed.campaign_id,
            outlet_id=outlet_id,
            order_reference=order_reference,
            order_amount=order_amount,
            discount_amount=discount_amount,
            redeemed_at=now,
        )

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
