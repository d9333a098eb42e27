"""Partner allocations: a share taken from a campaign's quantity, and coupons issued from it.
Each decision one statement on the driver connection, its event in it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select

from core.database.driver import driver_connection, reading_connection
from core.database.keyset import keyset_page
from core.database.repository import RepositoryBase
from core.events import DomainEvent
from core.events.outbox import ANNOUNCED_OUTCOME, OutboxWriter, announce
from core.pagination import Page, PageRequest
from svc_coupons.repositories.campaign_units import LOCK_FOR_UNITS, taking_units
from svc_coupons.repositories.coupons import coupon_from
from svc_coupons.repositories.schema_model import AllocationRow, platform_tables
from svc_coupons.services.data_model.campaigns import Campaign, CampaignStatus
from svc_coupons.services.data_model.coupons import IssueOutcome
from svc_coupons.services.data_model.exchange import Allocation

_OUTBOX = platform_tables.outbox

# The share is taken from the campaign's shards at once, all of it or none
# (campaign_units.taking_units): never more than the total, whatever runs at once.
CREATE = f"""
WITH {taking_units(campaign="$2::uuid", count="$4::int", statuses="$7::text[]")},
allocation AS (
    INSERT INTO coupons.allocations (id, campaign_id, merchant_id, partner_merchant_id,
        quantity, issued, created_by, created_at)
    SELECT $1, $2, merchant_id, $3, $4, 0, $5, $6 FROM units_granted
    RETURNING *
), {announce(_OUTBOX, when="allocation", after=7)}
SELECT {ANNOUNCED_OUTCOME}, allocation.*
FROM (SELECT) AS outcome LEFT JOIN allocation ON true
"""  # noqa: S608 (only our own table names go in; values are bound)
# Issuing from a share, as a claim is issued from the campaign (coupons.ISSUE): the
# customer's count, then one unit of the share (only while the campaign is active and
# running), then the coupon, marked with its distributor, and its event. The campaign row
# is not touched: the share's units were taken from it when the share was made.
ISSUE = f"""
WITH slot AS (
    INSERT INTO coupons.customer_claims AS held (campaign_id, user_id, claimed)
    VALUES ($1, $3, 1)
    ON CONFLICT (campaign_id, user_id) DO UPDATE SET claimed = held.claimed + 1
    WHERE held.claimed < $5
    RETURNING claimed
), unit AS (
    UPDATE coupons.allocations share SET issued = share.issued + 1
    WHERE share.id = $9 AND share.campaign_id = $1 AND EXISTS (SELECT FROM slot)
      AND share.issued < share.quantity
      AND EXISTS (SELECT FROM coupons.campaigns campaign WHERE campaign.id = $1
                  AND campaign.status = 'active' AND campaign.starts_at <= $6
                  AND campaign.ends_at > $6)
    RETURNING share.issued, share.partner_merchant_id
), coupon AS (
    INSERT INTO coupons.coupons
        (id, campaign_id, merchant_id, code, owner_user_id, status, issued_at, expires_at,
         created_at, distributor_merchant_id, allocation_id)
    SELECT $2, $1, $7, $4, $3, 'active', $6, $8, $6, partner_merchant_id, $9 FROM unit
    ON CONFLICT (code) DO NOTHING
    RETURNING *
), {announce(_OUTBOX, when="coupon", after=9, versions="coupon")}
SELECT EXISTS (SELECT FROM slot) AS slot_taken, (SELECT issued FROM unit) AS issued_count,
       {ANNOUNCED_OUTCOME}, coupon.*
FROM (SELECT) AS outcome LEFT JOIN coupon ON true
"""  # noqa: S608 (only our own table names go in; values are bound)


def allocation_from(row: Mapping[str, Any]) -> Allocation:
    return Allocation(
        id=row["id"],
        campaign_id=row["campaign_id"],
        merchant_id=row["merchant_id"],
        partner_merchant_id=row["partner_merchant_id"],
        quantity=row["quantity"],
        issued=row["issued"],
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


def _to_allocation(row: AllocationRow) -> Allocation:
    return allocation_from(row.__dict__)


class AllocationRepository(RepositoryBase[AllocationRow]):
    row_type = AllocationRow

    def _outbox(self) -> OutboxWriter:
        return OutboxWriter(_OUTBOX, self.session)

    async def get(self, allocation_id: UUID) -> Allocation | None:
        async with reading_connection(self.session) as connection:
            row = await connection.fetchrow(
                "SELECT * FROM coupons.allocations WHERE id = $1", allocation_id
            )
        return allocation_from(row) if row else None

    async def create(
        self,
        *,
        allocation_id: UUID,
        campaign: Campaign,
        partner_merchant_id: UUID,
        quantity: int,
        created_by: str,
        now: datetime,
        statuses: frozenset[CampaignStatus],
        event: DomainEvent,
    ) -> Allocation | None:
        """The share, taken from the campaign's quantity while it is in one of `statuses`;
        None when the campaign is not, or has fewer units left."""
        connection = await driver_connection(self.session)
        await connection.execute(LOCK_FOR_UNITS, campaign.id, [s.value for s in statuses])
        row = await self._outbox().fetchrow(
            CREATE,
            allocation_id,
            campaign.id,
            partner_merchant_id,
            quantity,
            created_by,
            now,
            sorted(status.value for status in statuses),
            events=(event,),
        )
        assert row is not None, "the outcome row is always there"
        return allocation_from(row) if row["id"] is not None else None

    async def issue(
        self,
        *,
        allocation: Allocation,
        campaign: Campaign,
        coupon_id: UUID,
        owner_user_id: UUID,
        code: str,
        limit: int,
        issued_at: datetime,
        expires_at: datetime,
        event: DomainEvent,
    ) -> IssueOutcome:
        row = await self._outbox().fetchrow(
            ISSUE,
            campaign.id,
            coupon_id,
            owner_user_id,
            code,
            limit,
            issued_at,
            campaign.merchant_id,
            expires_at,
            allocation.id,
            events=(event,),
        )
        assert row is not None, "the outcome row is always there"
        return IssueOutcome(
            limit_reached=not row["slot_taken"],
            issued_count=row["issued_count"],
            coupon=coupon_from(row) if row["id"] is not None else None,
        )

    async def of_campaign(self, *, campaign_id: UUID, page: PageRequest) -> Page[Allocation]:
        return await keyset_page(
            self.session,
            select(AllocationRow).where(AllocationRow.campaign_id == campaign_id),
            moment=AllocationRow.created_at,
            row_id=AllocationRow.id,
            page=page,
            to_item=_to_allocation,
            newest_first=True,
        )

    async def of_partner(self, *, partner_merchant_id: UUID, page: PageRequest) -> Page[Allocation]:
        return await keyset_page(
            self.session,
            select(AllocationRow).where(AllocationRow.partner_merchant_id == partner_merchant_id),
            moment=AllocationRow.created_at,
            row_id=AllocationRow.id,
            page=page,
            to_item=_to_allocation,
            newest_first=True,
        )
