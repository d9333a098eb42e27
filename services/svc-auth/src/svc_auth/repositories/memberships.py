from __future__ import annotations

from uuid import UUID

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from core.clock import utcnow
from core.database.keyset import cursor_position, page_of
from core.database.repository import RepositoryBase
from core.pagination import Page, PageRequest
from svc_auth.repositories.schema_model import MembershipRow, UserRow
from svc_auth.services.data_model.users import Member, MerchantRole


class MembershipRepository(RepositoryBase[MembershipRow]):
    row_type = MembershipRow

    async def role_of(self, *, user_id: UUID, merchant_id: UUID) -> MerchantRole | None:
        role = (
            await self.session.execute(
                select(MembershipRow.role).where(
                    MembershipRow.user_id == user_id, MembershipRow.merchant_id == merchant_id
                )
            )
        ).scalar_one_or_none()
        return MerchantRole(role) if role else None

    async def members(self, merchant_id: UUID, *, page: PageRequest) -> Page[Member]:
        joined = (MembershipRow.created_at, MembershipRow.user_id)  # the order, and the cursor
        query = (
            select(
                MembershipRow.user_id, UserRow.email, MembershipRow.role, MembershipRow.created_at
            )
            .join(UserRow, UserRow.id == MembershipRow.user_id)
            .where(MembershipRow.merchant_id == merchant_id)
            .order_by(*joined)
            .limit(page.limit + 1)
        )
        if page.cursor:
            query = query.where(tuple_(*joined) > cursor_position(page.cursor))
        rows = list(await self.session.execute(query))
        return page_of(
            rows,
            page,
            position=lambda r: (r.created_at, r.user_id),
            to_item=lambda r: Member(user_id=r.user_id, email=r.email, role=MerchantRole(r.role)),
        )

    async def add(self, *, user_id: UUID, merchant_id: UUID, role: MerchantRole) -> bool:
        added = await self.session.execute(
            insert(MembershipRow)
            .values(user_id=user_id, merchant_id=merchant_id, role=role.value, created_at=utcnow())
            .on_conflict_do_nothing()
            .returning(MembershipRow.user_id)
        )
        return added.first() is not None

    async def make_owner(self, *, user_id: UUID, merchant_id: UUID) -> None:
        statement = insert(MembershipRow).values(
            user_id=user_id,
            merchant_id=merchant_id,
            role=MerchantRole.OWNER.value,
            created_at=utcnow(),
        )
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[MembershipRow.user_id, MembershipRow.merchant_id],
                set_={"role": MerchantRole.OWNER.value},
            )
        )

    async def remove(self, *, user_id: UUID, merchant_id: UUID) -> None:
        await self.session.execute(
            delete(MembershipRow).where(
                MembershipRow.user_id == user_id, MembershipRow.merchant_id == merchant_id
            )
        )
