"""Page arguments as GraphQL takes them: clamped to the same bounds as `?limit=` in REST."""

from __future__ import annotations

from core.pagination import MAX_LIMIT, PageRequest


def graphql_page(limit: int, cursor: str | None) -> PageRequest:
    return PageRequest(limit=max(1, min(limit, MAX_LIMIT)), cursor=cursor)
