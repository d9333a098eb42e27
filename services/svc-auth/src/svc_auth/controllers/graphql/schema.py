"""svc-auth's GraphQL schema: the same service calls as the REST controllers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.config import PlatformSettings
from core.pagination import checked_page
from core.web.graphql import build_schema, graphql_router
from svc_auth.controllers.graphql.context import AuthContext, get_context
from svc_auth.controllers.graphql.types import ClientType, MemberType, UserPage, UserType
from svc_auth.services.errors import InvalidRole

AuthInfo = Info[AuthContext, None]


@strawberry.type
class Query:
    @strawberry.field(description="The caller's own account")
    async def me(self, info: AuthInfo) -> UserType:
        ctx = info.context
        return UserType.of(await ctx.accounts.me(principal=ctx.principal()))

    @strawberry.field(description="Admin: users, optionally by email")
    async def users(
        self, info: AuthInfo, email: str | None = None, limit: int = 20, cursor: str | None = None
    ) -> UserPage:
        ctx = info.context
        page = await ctx.accounts.list_users(
            principal=ctx.principal(),
            email=email,
            page=checked_page(limit, cursor),
        )
        return UserPage(items=[UserType.of(u) for u in page.items], next_cursor=page.next_cursor)

    @strawberry.field(description="Owner or admin: a merchant's members")
    async def members(self, info: AuthInfo, merchant_id: UUID) -> list[MemberType]:
        ctx = info.context
        members = await ctx.memberships.members(principal=ctx.principal(), merchant_id=merchant_id)
        return [MemberType.of(m) for m in members]


@strawberry.input
class RegisterInput:
    email: str
    password: str
    display_name: str


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def register(self, info: AuthInfo, input: RegisterInput) -> UserType:
        from svc_auth.controllers.dto.users import RegisterIn

        body = RegisterIn.model_validate(
            {"email": input.email, "password": input.password, "display_name": input.display_name}
        )
        user = await info.context.accounts.register(
            email=body.email,
            password=body.password,
            display_name=body.display_name,
            address=info.context.address,
        )
        return UserType.of(user)

    @strawberry.mutation
    async def grant_role(self, info: AuthInfo, user_id: UUID, role: str) -> UserType:
        ctx = info.context
        return UserType.of(
            await ctx.accounts.grant_role(principal=ctx.principal(), user_id=user_id, role=role)
        )

    @strawberry.mutation
    async def revoke_role(self, info: AuthInfo, user_id: UUID, role: str) -> bool:
        ctx = info.context
        await ctx.accounts.revoke_role(principal=ctx.principal(), user_id=user_id, role=role)
        return True

    @strawberry.mutation
    async def add_member(
        self, info: AuthInfo, merchant_id: UUID, email: str, role: str = "staff"
    ) -> MemberType:
        ctx = info.context
        if role != "staff":
            raise InvalidRole("Members are added as staff")
        member = await ctx.memberships.add_member(
            principal=ctx.principal(), merchant_id=merchant_id, email=email, role=role
        )
        return MemberType.of(member)

    @strawberry.mutation
    async def remove_member(self, info: AuthInfo, merchant_id: UUID, user_id: UUID) -> bool:
        ctx = info.context
        await ctx.memberships.remove_member(
            principal=ctx.principal(), merchant_id=merchant_id, user_id=user_id
        )
        return True

    @strawberry.mutation
    async def create_client(
        self, info: AuthInfo, name: str, merchant_id: UUID, scopes: list[str]
    ) -> ClientType:
        ctx = info.context
        issued = await ctx.clients.create_partner_client(
            principal=ctx.principal(), name=name, merchant_id=merchant_id, scopes=scopes
        )
        return ClientType.of(issued)


def router(settings: PlatformSettings) -> Any:
    schema = build_schema(query=Query, mutation=Mutation, settings=settings)
    # Sign-up's arguments hold the password: never fingerprinted nor kept for replay.
    return graphql_router(schema, get_context, credential_fields=frozenset({"register"}))
