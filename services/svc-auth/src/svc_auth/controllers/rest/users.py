"""Accounts: register, me, and the admin's view of users and roles."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response, status

from core.auth.dependencies import AdminPrincipal, CurrentPrincipal
from core.errors import Forbidden, TooManyRequests, Unauthenticated
from core.web.addresses import client_address
from core.web.openapi import problems
from core.web.pagination import PageDep
from core.web.routes import CredentialRoute, service_router
from svc_auth.controllers.dependencies import AccountsDep
from svc_auth.controllers.dto.users import GrantRoleInput, RegisterUserInput, User, UserPage
from svc_auth.services.data_model.users import PlatformRole
from svc_auth.services.errors import (
    EmailTaken,
    InvalidRole,
    LastAdmin,
    SignUpUnavailable,
    UserNotFound,
)

router = service_router(prefix="/api/v1/auth", tags=["users"])
# Sign-up's body holds the password: no Idempotency-Key, nothing of it kept.
sign_up = APIRouter(route_class=CredentialRoute, prefix="/api/v1/auth", tags=["users"])


@sign_up.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=User,
    summary="Anyone: create an account (a customer); sign in at the token endpoint",
    operation_id="registerUser",
    responses=problems(EmailTaken, TooManyRequests, SignUpUnavailable),
)
async def register(body: RegisterUserInput, request: Request, accounts: AccountsDep) -> User:
    user = await accounts.register(
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        address=client_address(request),
    )
    return User.of(user)


@router.get(
    "/me",
    response_model=User,
    summary="The signed-in user: roles and merchant memberships",
    operation_id="getMe",
    responses=problems(Forbidden, Unauthenticated),
)
async def me(principal: CurrentPrincipal, accounts: AccountsDep) -> User:
    return User.of(await accounts.me(principal=principal))


@router.get(
    "/users",
    response_model=UserPage,
    summary="Admin: list users",
    operation_id="listUsers",
    responses=problems(Forbidden),
)
async def list_users(
    principal: AdminPrincipal,
    accounts: AccountsDep,
    page: PageDep,
    email: Annotated[str | None, Query(max_length=320)] = None,
) -> UserPage:
    users = await accounts.list_users(principal=principal, email=email, page=page)
    return UserPage(items=[User.of(u) for u in users.items], next_cursor=users.next_cursor)


@router.post(
    "/users/{user_id}/roles",
    response_model=User,
    summary="Admin: grant a role",
    operation_id="grantRole",
    responses=problems(Forbidden, UserNotFound, InvalidRole),
)
async def grant_role(
    user_id: UUID, body: GrantRoleInput, principal: AdminPrincipal, accounts: AccountsDep
) -> User:
    return User.of(await accounts.grant_role(principal=principal, user_id=user_id, role=body.role))


@router.delete(
    "/users/{user_id}/roles/{role}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Admin: remove a role",
    operation_id="revokeRole",
    responses=problems(Forbidden, UserNotFound, InvalidRole, LastAdmin),
)
async def revoke_role(
    user_id: UUID, role: PlatformRole, principal: AdminPrincipal, accounts: AccountsDep
) -> Response:
    await accounts.revoke_role(principal=principal, user_id=user_id, role=role)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
