from __future__ import annotations

import asyncio

import strawberry

from core.config import Environment, PlatformSettings
from core.errors import NotFound
from core.web.graphql import build_schema

INTROSPECTION = "{ __schema { queryType { name } } }"


class GadgetMissing(NotFound):
    code = "gadget_missing"


@strawberry.type
class Query:
    @strawberry.field
    def gadget(self) -> str:
        raise GadgetMissing("no gadget")

    @strawberry.field
    def crash(self) -> str:
        raise RuntimeError("secret internals")


def settings(environment: Environment) -> PlatformSettings:
    return PlatformSettings(
        environment=environment,
        database_url="postgresql://db/x",
        jwt_jwks='{"keys": []}',
        jwt_issuer="https://api.example.com",
        server_secret="a server secret of thirty-two characters",
    )


async def test_introspection_is_off_in_production_only() -> None:
    local = build_schema(query=Query, mutation=None, settings=settings(Environment.LOCAL))
    assert (await local.execute(INTROSPECTION)).errors is None
    prod = build_schema(query=Query, mutation=None, settings=settings(Environment.PROD))
    assert (await prod.execute(INTROSPECTION)).errors


async def test_platform_errors_keep_their_code_and_others_are_masked() -> None:
    schema = build_schema(query=Query, mutation=None, settings=settings(Environment.LOCAL))
    known = await schema.execute("{ gadget }")
    assert known.errors is not None
    assert known.errors[0].extensions == {"code": "gadget_missing", "status": 404}
    crashed = await schema.execute("{ crash }")
    assert crashed.errors is not None
    assert crashed.errors[0].message == "Unexpected error."
    assert crashed.errors[0].extensions == {"code": "internal_error"}


class OneSession:
    """Stands for the request's database session: it serves one statement at a time."""

    def __init__(self) -> None:
        self.busy = False

    async def statement(self, answer: str) -> str:
        assert not self.busy, "two statements at once on one session"
        self.busy = True
        for _ in range(3):  # the round trip: other tasks run meanwhile
            await asyncio.sleep(0)
        self.busy = False
        return answer


@strawberry.type
class SessionQuery:
    @strawberry.field
    async def first(self, info: strawberry.Info) -> str:
        session: OneSession = info.context["session"]
        return await session.statement("one")

    @strawberry.field
    async def second(self, info: strawberry.Info) -> str:
        session: OneSession = info.context["session"]
        return await session.statement("two")


async def test_a_querys_root_fields_take_the_session_one_after_another() -> None:
    schema = build_schema(query=SessionQuery, mutation=None, settings=settings(Environment.LOCAL))
    result = await schema.execute(
        "{ first second again: first }", context_value={"session": OneSession()}
    )
    assert result.errors is None, result.errors
    assert result.data == {"first": "one", "second": "two", "again": "one"}
