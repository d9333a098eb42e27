"""Keyset pages over (a timestamp, id): stable under inserts, no OFFSET scans.

A cursor comes back from the caller, who may have made it up: anything that is not a
position a list could have given out (an offset-less or unparseable time, one so near the
ends of datetime's range that it has no UTC equivalent, a malformed id) is 422
`invalid_cursor`, never an error from the driver.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from core.pagination import InvalidCursor, Page, PageRequest, decode_cursor, encode_cursor

Item = TypeVar("Item")
Row = TypeVar("Row")


def cursor_position(cursor: str) -> tuple[datetime, UUID]:
    """The (time, id) a cursor stands for; 422 `invalid_cursor` for anything else."""
    moment, row_id = decode_cursor(cursor, 2)
    try:
        position = datetime.fromisoformat(moment)
        if position.utcoffset() is None:
            raise InvalidCursor()  # every position given out carries its offset
        # In UTC now, so that an overflow is found here and not by the driver.
        return position.astimezone(UTC), UUID(row_id)
    except (ValueError, OverflowError) as exc:
        raise InvalidCursor() from exc


def page_of(
    rows: Sequence[Row],
    page: PageRequest,
    *,
    position: Callable[[Row], tuple[datetime, Any]],
    to_item: Callable[[Row], Item],
) -> Page[Item]:
    """The page `rows` make, read with one row more than `page` holds: with the cursor of
    its last row's `position` when that extra row says another page follows. (For a
    statement of a repository's own too, a hot path's SQL on the driver connection.)"""
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    cursor = None
    if more:
        moment, row_id = position(rows[-1])
        cursor = encode_cursor(moment.isoformat(), row_id)
    return Page(items=[to_item(row) for row in rows], next_cursor=cursor)


async def keyset_page(
    session: AsyncSession,
    query: Select[Any],
    *,
    moment: Any,
    row_id: Any,
    page: PageRequest,
    to_item: Callable[[Any], Item],
    newest_first: bool = False,
) -> Page[Item]:
    """One page of `query`'s entities after the cursor's position.

    `moment` (a timestamp) and `row_id` are the mapped columns to order by; the page is read with
    one row more than asked, to know whether another page follows.
    """
    if newest_first:
        query = query.order_by(moment.desc(), row_id.desc())
    else:
        query = query.order_by(moment, row_id)
    query = query.limit(page.limit + 1)
    if page.cursor:
        after = tuple_(moment, row_id)
        position = cursor_position(page.cursor)
        query = query.where(after < position if newest_first else after > position)
    rows: Sequence[Any] = list((await session.execute(query)).scalars())
    return page_of(
        rows,
        page,
        position=lambda row: (getattr(row, moment.key), getattr(row, row_id.key)),
        to_item=to_item,
    )
