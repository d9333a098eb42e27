"""Keyset pages ordered by (created_at, id): stable under inserts, no OFFSET scans."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from core.pagination import InvalidCursor, Page, PageRequest, decode_cursor, encode_cursor

Item = TypeVar("Item")


def _position(cursor: str) -> tuple[datetime, UUID]:
    created_at, row_id = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(created_at), UUID(row_id)
    except ValueError as exc:
        raise InvalidCursor() from exc


async def keyset_page(
    session: AsyncSession,
    query: Select[Any],
    *,
    created_at: Any,
    row_id: Any,
    page: PageRequest,
    to_item: Callable[[Any], Item],
) -> Page[Item]:
    """One page of `query`'s entities, oldest first, after the cursor's position.

    `created_at` and `row_id` are the mapped columns to order by; the page is read with
    one row more than asked, to know whether another page follows.
    """
    query = query.order_by(created_at, row_id).limit(page.limit + 1)
    if page.cursor:
        query = query.where(tuple_(created_at, row_id) > _position(page.cursor))
    rows: Sequence[Any] = list((await session.execute(query)).scalars())
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    cursor = None
    if more:
        last = rows[-1]
        cursor = encode_cursor(getattr(last, created_at.key).isoformat(), getattr(last, row_id.key))
    return Page(items=[to_item(row) for row in rows], next_cursor=cursor)
