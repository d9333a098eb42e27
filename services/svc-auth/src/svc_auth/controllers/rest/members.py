"""A merchant's members, managed by its owner or an admin."""

from __future__ import annotations

from uuid import UUID

from fastapi import Response, status

from core.auth.dependencies import CurrentPrincipal
from core.errors import Forbidden
from core.web.openapi import problems
from core.web.pagination import PageDep
from core.web.routes import service_router
from svc_auth.controllers.dependencies import ClientsDep, MembershipsDep
from svc_auth.controllers.dto.clients import CreatePartnerClientInput, PartnerClient
from svc_auth.controllers.dto.users import AddMemberInput, Member, MemberPage
from svc_auth.services.errors import (
    AlreadyMember,
    InvalidRole,
    InvalidScope,
    MemberNotFound,
    OwnerNotRemovable,
    UserNotFound,
)

router = service_router(prefix="/api/v1/auth")


@router.get(
    "/merchants/{merchant_id}/members",
    response_model=MemberPage,
    summary="Owner, admin: the merchant's members",
    tags=["members"],
    operation_id="listMembers",
    responses=problems(Forbidden),
)
async def list_members(
    merchant_id: UUID, principal: CurrentPrincipal, memberships: MembershipsDep, page: PageDep
) -> MemberPage:
    members = await memberships.members(principal=principal, merchant_id=merchant_id, page=page)
    return MemberPage(items=[Member.of(m) for m in members.items], next_cursor=members.next_cursor)


@router.post(
    "/merchants/{merchant_id}/members",
    status_code=status.HTTP_201_CREATED,
    response_model=Member,
    summary="Owner, admin: add a registered user as staff",
    tags=["members"],
    operation_id="addMember",
    responses=problems(Forbidden, UserNotFound, AlreadyMember, InvalidRole),
)
async def add_member(
    merchant_id: UUID,
    body: AddMemberInput,
    principal: CurrentPrincipal,
    memberships: MembershipsDep,
) -> Member:
    member = await memberships.add_member(
        principal=principal, merchant_id=merchant_id, email=body.email, role=body.role
    )
    return Member.of(member)


@router.delete(
    "/merchants/{merchant_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Owner, admin: remove a member (never the owner)",
    tags=["members"],
    operation_id="removeMember",
    responses=problems(Forbidden, MemberNotFound, OwnerNotRemovable),
)
async def remove_member(
    merchant_id: UUID, user_id: UUID, principal: CurrentPrincipal, memberships: MembershipsDep
) -> Response:
    await memberships.remove_member(principal=principal, merchant_id=merchant_id, user_id=user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/clients",
    status_code=status.HTTP_201_CREATED,
    response_model=PartnerClient,
    tags=["clients"],
    summary="Owner, admin: create a partner client for a merchant; its secret is shown only here",
    operation_id="createPartnerClient",
    responses=problems(Forbidden, InvalidScope),
)
async def create_client(
    body: CreatePartnerClientInput,
    principal: CurrentPrincipal,
    clients: ClientsDep,
    response: Response,
) -> PartnerClient:
    response.headers["Cache-Control"] = "no-store"  # the answer holds the client's secret
    issued = await clients.create_partner_client(
        principal=principal, name=body.name, merchant_id=body.merchant_id, scopes=body.scopes
    )
    return PartnerClient.of(issued)
