"""svc-auth's GraphQL schema: the REST operations' service calls, under their names
(mutations as the REST operation, reads as its noun), with types derived from the DTOs."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from core.config import PlatformSettings
from core.pagination import DEFAULT_LIMIT, checked_page
from core.web.graphql import build_schema, graphql_router
from svc_auth.controllers.dto import clients, users
from svc_auth.controllers.graphql.context import AuthContext, get_context
from svc_auth.controllers.graphql.types import (
    AddMemberInput,
    CreatePartnerClientInput,
    GrantRoleInput,
    Member,
    MemberPage,
    PartnerClient,
    RegisterUserInput,
    User,
    UserPage,
)
from svc_auth.services.data_model.users import PlatformRole

AuthInfo = Info[AuthContext, None]


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in user: roles and merchant memberships")
    async def me(self, info: AuthInfo) -> User:
        ctx = info.context
        return User.from_pydantic(users.User.of(await ctx.accounts.me(principal=ctx.principal())))

    @strawberry.field(description="Admin: users, optionally by email")
    async def users(
        self,
        info: AuthInfo,
        email: str | None = None,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> UserPage:
        ctx = info.context
        page = await ctx.accounts.list_users(
            principal=ctx.principal(), email=email, page=checked_page(limit, cursor)
        )
        return UserPage.from_pydantic(
            users.UserPage(
                items=[users.User.of(u) for u in page.items], next_cursor=page.next_cursor
            )
        )

    @strawberry.field(description="Owner, admin: the merchant's members")
    async def members(
        self,
        info: AuthInfo,
        merchant_id: UUID,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> MemberPage:
        ctx = info.context
        page = await ctx.memberships.members(
            principal=ctx.principal(), merchant_id=merchant_id, page=checked_page(limit, cursor)
        )
        return MemberPage.from_pydantic(
            users.MemberPage(
                items=[users.Member.of(m) for m in page.items], next_cursor=page.next_cursor
            )
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Anyone: create an account (a customer); sign in at the token endpoint"
    )
    async def register_user(self, info: AuthInfo, input: RegisterUserInput) -> User:
        body: users.RegisterUserInput = input.to_pydantic()
        user = await info.context.accounts.register(
            email=body.email,
            password=body.password,
            display_name=body.display_name,
            address=info.context.address,
        )
        return User.from_pydantic(users.User.of(user))

    @strawberry.mutation(description="Admin: grant a role")
    async def grant_role(self, info: AuthInfo, user_id: UUID, input: GrantRoleInput) -> User:
        ctx = info.context
        body: users.GrantRoleInput = input.to_pydantic()
        user = await ctx.accounts.grant_role(
            principal=ctx.principal(), user_id=user_id, role=body.role
        )
        return User.from_pydantic(users.User.of(user))

    @strawberry.mutation(description="Admin: remove a role")
    async def revoke_role(self, info: AuthInfo, user_id: UUID, role: PlatformRole) -> bool:
        ctx = info.context
        await ctx.accounts.revoke_role(principal=ctx.principal(), user_id=user_id, role=role)
        return True

    @strawberry.mutation(description="Owner, admin: add a registered user as staff")
    async def add_member(self, info: AuthInfo, merchant_id: UUID, input: AddMemberInput) -> Member:
        ctx = info.context
        body: users.AddMemberInput = input.to_pydantic()
        member = await ctx.memberships.add_member(
            principal=ctx.principal(), merchant_id=merchant_id, email=body.email, role=body.role
        )
        return Member.from_pydantic(users.Member.of(member))

    @strawberry.mutation(description="Owner, admin: remove a member (never the owner)")
    async def remove_member(self, info: AuthInfo, merchant_id: UUID, user_id: UUID) -> bool:
        ctx = info.context
        await ctx.memberships.remove_member(
            principal=ctx.principal(), merchant_id=merchant_id, user_id=user_id
        )
        return True

    @strawberry.mutation(
        description="Owner, admin: create a partner client for a merchant; its secret is "
        "shown only here"
    )
    async def create_partner_client(
        self, info: AuthInfo, input: CreatePartnerClientInput
    ) -> PartnerClient:
        ctx = info.context
        body: clients.CreatePartnerClientInput = input.to_pydantic()
        issued = await ctx.clients.create_partner_client(
            principal=ctx.principal(),
            name=body.name,
            merchant_id=body.merchant_id,
            scopes=body.scopes,
        )
        return PartnerClient.from_pydantic(clients.PartnerClient.of(issued))


def router(settings: PlatformSettings) -> Any:
    schema = build_schema(query=Query, mutation=Mutation, settings=settings)
    # Sign-up's arguments hold the password: never fingerprinted nor kept for replay.
    return graphql_router(schema, get_context, credential_fields=frozenset({"registerUser"}))
