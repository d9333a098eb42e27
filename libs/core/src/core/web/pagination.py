"""`?limit=&cursor=` as a FastAPI dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from core.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageRequest


def page_request(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor)


PageDep = Annotated[PageRequest, Depends(page_request)]
