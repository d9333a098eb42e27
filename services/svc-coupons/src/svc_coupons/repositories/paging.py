"""Newest-first keyset pages over (a timestamp, id): what campaign lists and wallets show.

core.database.keyset pages oldest first; these lists read the other way round.

A cursor comes back from the caller, who may have made it up: anything that is not a
position this list could have given out (an offset-less or unparseable time, one so near
the ends of datetime's range that it has no UTC equivalent, a malformed id) is 422
`invalid_cursor`, never an error from the driver.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from core.pagination import InvalidCursor, Page, PageRequest, decode_cursor, encode_cursor

Item = TypeVar("Item")


def _position(cursor: str) -> tuple[datetime, UUID]:
    moment, row_id = decode_cursor(cursor, 2)
    try:
        position = datetime.fromisoformat(moment)
        if position.tzinfo is None or position.utcoffset() is None:
            raise InvalidCursor()  # every position given out carries its offset
        # In UTC now, so that an overflow is found here and not by the driver.
        return position.astimezone(UTC), UUID(row_id)
    except (ValueError, OverflowError) as exc:
        raise InvalidCursor() from exc


async def newest_first_page(
    session: AsyncSession,
    query: Select[Any],
    *,
    moment: Any,
    row_id: Any,
    page: PageRequest,
    to_item: Callable[[Any], Item],
) -> Page[Item]:
    query = query.order_by(moment.desc(), row_id.desc()).limit(page.limit + 1)
    if page.cursor:
        query = query.where(tuple_(moment, row_id) < _position(page.cursor))
    rows = list((await session.execute(query)).scalars())
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    cursor = None
    if more:
        last = rows[-1]
        cursor = encode_cursor(getattr(last, moment.key).isoformat(), getattr(last, row_id.key))
    return Page(items=[to_item(row) for row in rows], next_cursor=cursor)
