"""A PATCH input over GraphQL: left out and sent as null are different things."""

from __future__ import annotations

import strawberry

from core.web.graphql import given_fields


@strawberry.input
class RenameInput:
    name: str | None = strawberry.UNSET
    nickname: str | None = strawberry.UNSET


def test_only_the_fields_given_are_kept_nulls_included() -> None:
    seen: list[dict[str, object]] = []

    @strawberry.type
    class Query:
        @strawberry.field
        def rename(self, input: RenameInput) -> bool:
            seen.append(given_fields(input))
            return True

    schema = strawberry.Schema(query=Query)
    assert schema.execute_sync('{ rename(input: {name: "Ada"}) }').errors is None
    assert schema.execute_sync("{ rename(input: {nickname: null}) }").errors is None
    assert seen == [{"name": "Ada"}, {"nickname": None}]
