from __future__ import annotations

from uuid import UUID

from sqlalchemy import select

from core.database.keyset import keyset_page
from core.database.repository import RepositoryBase
from core.pagination import Page, PageRequest
from svc_merchants.repositories.schema_model import MerchantRow
from svc_merchants.services.data_model.merchants import Merchant, MerchantStatus


def to_merchant(row: MerchantRow) -> Merchant:
    return Merchant(
        id=row.id,
        name=row.name,
        status=MerchantStatus(row.status),
        owner_user_id=row.owner_user_id,
        country=row.country,
        currency=row.currency,
        timezone=row.timezone,
        category=row.category,
        created_at=row.created_at,
        updated_at=row.updated_at,
        verified_at=row.verified_at,
        suspended_at=row.suspended_at,
        suspension_reason=row.suspension_reason,
    )


def _copy_into(row: MerchantRow, merchant: Merchant) -> MerchantRow:
    row.name = merchant.name
    row.status = merchant.status.value
    row.owner_user_id = merchant.owner_user_id
    row.country = merchant.country
    row.currency = merchant.currency
    row.timezone = merchant.timezone
    row.category = merchant.category
    row.suspension_reason = merchant.suspension_reason
    row.created_at = merchant.created_at
    row.updated_at = merchant.updated_at
    row.verified_at = merchant.verified_at
    row.suspended_at = merchant.suspended_at
    return row


class MerchantRepository(RepositoryBase[MerchantRow]):
    row_type = MerchantRow

    async def add(self, merchant: Merchant) -> None:
        await self._add_row(_copy_into(MerchantRow(id=merchant.id), merchant))

    async def get(self, merchant_id: UUID, *, lock: bool = False) -> Merchant | None:
        query = select(MerchantRow).where(MerchantRow.id == merchant_id)
        if lock:
            query = query.with_for_update()
        row = (
            await self.session.execute(query.execution_options(populate_existing=True))
        ).scalar_one_or_none()
        return to_merchant(row) if row else None

    async def save(self, merchant: Merchant) -> None:
        row = await self._get_row(merchant.id)
        if row is None:
            raise LookupError(f"merchant {merchant.id} is not stored; add it first")
        _copy_into(row, merchant)
        await self.session.flush()

    async def browse(
        self, *, status: MerchantStatus | None, owner_user_id: UUID | None, page: PageRequest
    ) -> Page[Merchant]:
        query = select(MerchantRow)
        if status is not None:
            query = query.where(MerchantRow.status == status.value)
        if owner_user_id is not None:
            query = query.where(MerchantRow.owner_user_id == owner_user_id)
        return await keyset_page(
            self.session,
            query,
            moment=MerchantRow.created_at,
            row_id=MerchantRow.id,
            page=page,
            to_item=to_merchant,
        )
