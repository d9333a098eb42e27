from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from core.clock import utcnow
from core.database.driver import reading_connection
from core.database.keyset import keyset_page
from core.database.repository import RepositoryBase
from core.pagination import Page, PageRequest
from svc_auth.repositories.schema_model import UserRoleRow, UserRow
from svc_auth.services.data_model.users import (
    Credentials,
    Membership,
    MerchantRole,
    PlatformRole,
    User,
)

# A hot path (GET /me, every refresh grant): the user with roles and memberships in one
# statement on the driver connection, where the ORM's selectin loading ran three, each
# with its own result processing.
SELECT_USER = """
SELECT users.id, users.email, users.display_name, users.created_at,
       ARRAY(SELECT roles.role FROM auth.user_roles roles WHERE roles.user_id = users.id)
           AS roles,
       ARRAY(SELECT ROW(membership.merchant_id, membership.role)
             FROM auth.memberships membership WHERE membership.user_id = users.id
             ORDER BY membership.created_at, membership.merchant_id) AS memberships
FROM auth.users users
WHERE users.id = $1
"""


def user_from(row: Mapping[str, Any]) -> User:
    """A user from SELECT_USER's record."""
    return User(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        roles=frozenset(PlatformRole(role) for role in row["roles"]),
        memberships=tuple(
            Membership(merchant_id=merchant_id, role=MerchantRole(role))
            for merchant_id, role in row["memberships"]
        ),
        created_at=row["created_at"],
    )


def to_user(row: UserRow) -> User:
    return User(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        roles=frozenset(PlatformRole(r.role) for r in row.roles),
        memberships=tuple(
            Membership(merchant_id=m.merchant_id, role=MerchantRole(m.role))
            for m in sorted(row.memberships, key=lambda m: m.created_at)
        ),
        created_at=row.created_at,
    )


class UserRepository(RepositoryBase[UserRow]):
    row_type = UserRow

    async def create(self, *, email: str, password_hash: str, display_name: str) -> User | None:
        user_id = (
            await self.session.execute(
                insert(UserRow)
                .values(
                    id=uuid4(),
                    email=email,
                    password_hash=password_hash,
                    display_name=display_name,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=[UserRow.email])
                .returning(UserRow.id)
            )
        ).scalar_one_or_none()
        return await self.get(user_id) if user_id else None

    async def get(self, user_id: UUID) -> User | None:
        # Every write of this service's repositories is a statement run at once (no
        # pending ORM change), so the driver connection sees what the transaction wrote.
        async with reading_connection(self.session) as connection:
            row = await connection.fetchrow(SELECT_USER, user_id)
        return user_from(row) if row else None

    async def credentials(self, email: str) -> Credentials | None:
        row = (
            await self.session.execute(select(UserRow).where(UserRow.email == email))
        ).scalar_one_or_none()
        return Credentials(user=to_user(row), password_hash=row.password_hash) if row else None

    async def list(self, *, email: str | None, page: PageRequest) -> Page[User]:
        query = select(UserRow)
        if email:
            query = query.where(UserRow.email == email)
        return await keyset_page(
            self.session,
            query,
            moment=UserRow.created_at,
            row_id=UserRow.id,
            page=page,
            to_item=to_user,
        )

    async def add_role(self, user_id: UUID, role: PlatformRole) -> None:
        await self.session.execute(
            insert(UserRoleRow).values(user_id=user_id, role=role.value).on_conflict_do_nothing()
        )

    async def remove_role(self, user_id: UUID, role: PlatformRole) -> bool:
        removed = await self.session.execute(
            delete(UserRoleRow)
            .where(UserRoleRow.user_id == user_id, UserRoleRow.role == role.value)
            .returning(UserRoleRow.user_id)
        )
        return removed.first() is not None

    async def lock_admins(self) -> int:
        admins = await self.session.execute(
            select(UserRoleRow.user_id)
            .where(UserRoleRow.role == PlatformRole.ADMIN.value)
            .with_for_update()
        )
        return len(admins.all())
