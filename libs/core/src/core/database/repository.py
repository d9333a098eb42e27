"""The shape every repository shares: a session it uses but never commits.

Services subclass it thinly, one repository per aggregate, mapping rows to data models.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

Row = TypeVar("Row", bound=DeclarativeBase)


class RepositoryBase(Generic[Row]):
    row_type: type[Row]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _get_row(self, key: Any) -> Row | None:
        return await self.session.get(self.row_type, key)

    async def _add_row(self, row: Row) -> Row:
        self.session.add(row)
        await self.session.flush()
        return row
