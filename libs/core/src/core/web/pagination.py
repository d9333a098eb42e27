"""`?limit=&cursor=` as a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from core.pagination import DEFAULT_LIMIT, MAX_CURSOR_LENGTH, MAX_LIMIT, PageRequest


# `async def` although it does no I/O: FastAPI runs a plain `def` dependency in the thread
# pool, a hop to a worker thread and back on every request of a list.
async def page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=MAX_CURSOR_LENGTH)] = None,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor)


PageDep = Annotated[PageRequest, Depends(page_request)]
