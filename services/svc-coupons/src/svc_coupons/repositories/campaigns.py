from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import func, select, update

from core.database.driver import driver_connection, reading_connection
from core.database.keyset import keyset_page
from core.database.repository import RepositoryBase
from core.pagination import Page, PageRequest
from svc_coupons.repositories.campaign_units import (
    ADD_UNITS,
    LOCK_FOR_UNITS,
    OPEN_UNITS,
    RESHAPE_UNITS,
    taking_units,
    units_taken,
)
from svc_coupons.repositories.schema_model import CampaignRow, CampaignUnitRow
from svc_coupons.services.data_model.campaigns import (
    TRADING,
    Campaign,
    CampaignStatus,
    CampaignTerms,
    DiscountType,
)

# Statements run on the driver connection (core.database.driver).
# A campaign's issued count is the sum of its shards (campaign_units): every read of a
# campaign selects it as `units_taken`.
SELECT_CAMPAIGN = (
    f"SELECT campaign.*, {units_taken('campaign')} AS units_taken"  # noqa: S608 (ours)
    " FROM coupons.campaigns campaign WHERE campaign.id = $1"
)
SELECT_CAMPAIGNS = (
    f"SELECT campaign.*, {units_taken('campaign')} AS units_taken"  # noqa: S608 (ours)
    " FROM coupons.campaigns campaign WHERE campaign.id = ANY($1::uuid[])"
)
TAKE_UNITS = f"""
WITH {taking_units(campaign="$1::uuid", count="$2::int", statuses="$3::text[]")}
SELECT EXISTS (SELECT FROM units_granted) AS granted
"""  # noqa: S608 (SQL of our own; values are bound)

# The exchange's statements: the campaign aliased `campaign` still lets its coupons change
# hands (the statuses come from our own enum, not from a caller).
CAMPAIGN_RUNS = "campaign.status IN ({})".format(
    ", ".join(f"'{status.value}'" for status in sorted(TRADING))
)


def campaign_from(row: Mapping[str, Any], *, issued_count: int | None = None) -> Campaign:
    """A campaign from its columns and `units_taken` (a driver record, or a mapped row's
    attributes); `issued_count` instead of the latter for a campaign read as one composite
    value (`campaign AS campaign`), which holds the table's columns alone."""
    return Campaign(
        id=row["id"],
        merchant_id=row["merchant_id"],
        terms=CampaignTerms(
            title=row["title"],
            description=row["description"],
            discount_type=DiscountType(row["discount_type"]),
            discount_value=row["discount_value"],
            currency=row["currency"],
            min_spend=row["min_spend"],
            total_quantity=row["total_quantity"],
            per_customer_limit=row["per_customer_limit"],
            starts_at=row["starts_at"],
            ends_at=row["ends_at"],
            validity_days=row["validity_days"],
            outlet_ids=tuple(row["outlet_ids"]),
            transferable=row["transferable"],
            tradable=row["tradable"],
        ),
        status=CampaignStatus(row["status"]),
        issued_count=row["units_taken"] if issued_count is None else issued_count,
        redeemed_count=row["redeemed_count"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def to_campaign(row: CampaignRow) -> Campaign:
    # A freshly loaded mapped row holds every column in its __dict__.
    return campaign_from(row.__dict__)


def _terms_columns(terms: CampaignTerms) -> dict[str, object]:
    return {
        "title": terms.title,
        "description": terms.description,
        "discount_type": terms.discount_type.value,
        "discount_value": terms.discount_value,
        "currency": terms.currency,
        "min_spend": terms.min_spend,
        "total_quantity": terms.total_quantity,
        "per_customer_limit": terms.per_customer_limit,
        "starts_at": terms.starts_at,
        "ends_at": terms.ends_at,
        "validity_days": terms.validity_days,
        "outlet_ids": list(terms.outlet_ids),
        "transferable": terms.transferable,
        "tradable": terms.tradable,
    }


class CampaignRepository(RepositoryBase[CampaignRow]):
    row_type = CampaignRow

    async def create(
        self, *, merchant_id: UUID, terms: CampaignTerms, created_by: str, now: datetime
    ) -> Campaign:
        row = await self._add_row(
            CampaignRow(
                id=uuid4(),
                merchant_id=merchant_id,
                status=CampaignStatus.DRAFT.value,
                issued_count_before_shards=0,
                redeemed_count=0,
                created_by=created_by,
                created_at=now,
                updated_at=now,
                **_terms_columns(terms),
            )
        )
        connection = await driver_connection(self.session)
        await connection.execute(ADD_UNITS, row.id, terms.total_quantity)
        return campaign_from(row.__dict__, issued_count=0)

    async def get(self, campaign_id: UUID) -> Campaign | None:
        async with reading_connection(self.session) as connection:
            row = await connection.fetchrow(SELECT_CAMPAIGN, campaign_id)
        return campaign_from(row) if row else None

    async def get_for_update(self, campaign_id: UUID) -> Campaign | None:
        # FOR NO KEY UPDATE: it does not block the key-share locks that inserting a coupon
        # takes on its campaign, so lifecycle changes and claims never deadlock. Read again
        # once locked, in a statement of its own: its shards' count as they are now, not
        # as the locking statement's snapshot saw them before it waited.
        locked = (
            await self.session.execute(
                select(CampaignRow.id)
                .where(CampaignRow.id == campaign_id)
                .with_for_update(key_share=True)
            )
        ).scalar_one_or_none()
        return None if locked is None else await self._changed(campaign_id)

    async def get_many(self, campaign_ids: Collection[UUID]) -> list[Campaign]:
        if not campaign_ids:
            return []
        # On the driver connection (a wallet's page, the exchange's lists): every change to
        # a campaign is a statement run at once, so it sees what the transaction wrote.
        async with reading_connection(self.session) as connection:
            rows = await connection.fetch(SELECT_CAMPAIGNS, list(campaign_ids))
        return [campaign_from(row) for row in rows]

    async def list(
        self, *, merchant_id: UUID | None, status: CampaignStatus, page: PageRequest
    ) -> Page[Campaign]:
        query = select(CampaignRow).where(CampaignRow.status == status.value)
        if merchant_id is not None:
            query = query.where(CampaignRow.merchant_id == merchant_id)
        return await keyset_page(
            self.session,
            query,
            moment=CampaignRow.created_at,
            row_id=CampaignRow.id,
            page=page,
            to_item=to_campaign,
            newest_first=True,
        )

    async def _update(self, campaign_id: UUID, values: dict[str, object]) -> None:
        await self.session.execute(
            update(CampaignRow).where(CampaignRow.id == campaign_id).values(**values)
        )

    async def _changed(self, campaign_id: UUID) -> Campaign:
        """The campaign as this transaction left it, its shards' count with it (an UPDATE's
        RETURNING holds the row's columns alone)."""
        changed = await self.get(campaign_id)
        assert changed is not None, "campaigns are never deleted"
        return changed

    async def save_terms(
        self, *, campaign_id: UUID, terms: CampaignTerms, now: datetime
    ) -> Campaign | None:
        # Conditional, whatever the caller checked: only a draft changes, and never to a
        # total below what was already taken from it (codes count): the shards are spread
        # again only when it is not, and otherwise the new terms are not kept (None: the
        # service refuses, and the request's transaction is rolled back with them).
        conditions = [
            CampaignRow.id == campaign_id,
            CampaignRow.status == CampaignStatus.DRAFT.value,
        ]
        if terms.total_quantity is not None:
            # Checked by the UPDATE itself: below what was taken, the row is not touched
            # (migration 0010's trigger would refuse it anyway, for the code from before the
            # shards, which cannot see them).
            taken = (
                select(func.coalesce(func.sum(CampaignUnitRow.taken), 0))
                .where(CampaignUnitRow.campaign_id == campaign_id)
                .scalar_subquery()
            )
            conditions.append(taken <= terms.total_quantity)
        saved = (
            await self.session.execute(
                update(CampaignRow)
                .where(*conditions)
                .values(**_terms_columns(terms), updated_at=now)
                .returning(CampaignRow.id)
            )
        ).scalar_one_or_none()
        if saved is None:
            return None
        connection = await driver_connection(self.session)
        reshaped = await connection.fetch(RESHAPE_UNITS, campaign_id, terms.total_quantity)
        if not reshaped:
            return None
        return await self._changed(campaign_id)

    async def set_status(
        self, *, campaign_id: UUID, status: CampaignStatus, now: datetime
    ) -> Campaign:
        await self._update(campaign_id, {"status": status.value, "updated_at": now})
        connection = await driver_connection(self.session)
        await connection.execute(OPEN_UNITS, campaign_id, status is CampaignStatus.ACTIVE)
        return await self._changed(campaign_id)

    async def take_units(
        self,
        *,
        campaign_id: UUID,
        count: int,
        statuses: frozenset[CampaignStatus],
    ) -> Campaign | None:
        connection = await driver_connection(self.session)
        wanted = [s.value for s in statuses]
        await connection.execute(LOCK_FOR_UNITS, campaign_id, wanted)
        granted = await connection.fetchval(TAKE_UNITS, campaign_id, count, wanted)
        return await self.get(campaign_id) if granted else None

    async def count_redemption(self, *, campaign_id: UUID, delta: int) -> None:
        await self.session.execute(
            update(CampaignRow)
            .where(CampaignRow.id == campaign_id)
            .values(redeemed_count=CampaignRow.redeemed_count + delta)
        )
