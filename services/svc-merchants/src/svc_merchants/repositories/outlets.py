from __future__ import annotations

from uuid import UUID

from sqlalchemy import delete, func, select

from core.database.keyset import keyset_page
from core.database.repository import RepositoryBase
from core.pagination import Page, PageRequest
from svc_merchants.repositories.schema_model import OutletRow
from svc_merchants.services.data_model.outlets import Outlet


def to_outlet(row: OutletRow) -> Outlet:
    return Outlet(
        id=row.id,
        merchant_id=row.merchant_id,
        name=row.name,
        address=row.address,
        latitude=row.latitude,
        longitude=row.longitude,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _copy_into(row: OutletRow, outlet: Outlet) -> OutletRow:
    row.merchant_id = outlet.merchant_id
    row.name = outlet.name
    row.address = outlet.address
    row.latitude = outlet.latitude
    row.longitude = outlet.longitude
    row.created_at = outlet.created_at
    row.updated_at = outlet.updated_at
    return row


class OutletRepository(RepositoryBase[OutletRow]):
    row_type = OutletRow

    async def add(self, outlet: Outlet) -> None:
        await self._add_row(_copy_into(OutletRow(id=outlet.id), outlet))

    async def _row(self, merchant_id: UUID, outlet_id: UUID) -> OutletRow | None:
        return (
            await self.session.execute(
                select(OutletRow).where(
                    OutletRow.id == outlet_id, OutletRow.merchant_id == merchant_id
                )
            )
        ).scalar_one_or_none()

    async def get(self, *, merchant_id: UUID, outlet_id: UUID) -> Outlet | None:
        row = await self._row(merchant_id, outlet_id)
        return to_outlet(row) if row else None

    async def save(self, outlet: Outlet) -> None:
        row = await self._row(outlet.merchant_id, outlet.id)
        if row is None:
            raise LookupError(f"outlet {outlet.id} is not stored; add it first")
        _copy_into(row, outlet)
        await self.session.flush()

    async def delete(self, *, merchant_id: UUID, outlet_id: UUID) -> bool:
        deleted = await self.session.execute(
            delete(OutletRow)
            .where(OutletRow.id == outlet_id, OutletRow.merchant_id == merchant_id)
            .returning(OutletRow.id)
        )
        return deleted.first() is not None

    async def count(self, merchant_id: UUID) -> int:
        return int(
            (
                await self.session.execute(
                    select(func.count())
                    .select_from(OutletRow)
                    .where(OutletRow.merchant_id == merchant_id)
                )
            ).scalar_one()
        )

    async def browse(self, *, merchant_id: UUID, page: PageRequest) -> Page[Outlet]:
        return await keyset_page(
            self.session,
            select(OutletRow).where(OutletRow.merchant_id == merchant_id),
            moment=OutletRow.created_at,
            row_id=OutletRow.id,
            page=page,
            to_item=to_outlet,
        )
