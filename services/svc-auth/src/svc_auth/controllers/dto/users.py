"""Accounts and members: one model per object, served by REST and (derived) GraphQL."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from core.pagination import PageOut
from svc_auth.controllers.dto import examples as ex
from svc_auth.services.data_model import users as domain
from svc_auth.services.data_model.users import MerchantRole, PlatformRole


class RegisterUserInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.REGISTER_IN)
    )

    email: EmailStr = Field(max_length=320)
    # The upper bound keeps one request from costing a hashing marathon.
    password: str = Field(min_length=10, max_length=256)
    display_name: str = Field(min_length=1, max_length=100)


class Membership(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.MEMBERSHIP))

    merchant_id: UUID
    role: MerchantRole


class User(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.USER))

    id: UUID
    email: str
    display_name: str
    roles: list[PlatformRole]
    memberships: list[Membership]
    created_at: datetime

    @classmethod
    def of(cls, user: domain.User) -> User:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            roles=sorted(user.roles),
            memberships=[
                Membership(merchant_id=m.merchant_id, role=m.role) for m in user.memberships
            ],
            created_at=user.created_at,
        )


class UserPage(PageOut[User]):
    """A page of users."""


class GrantRoleInput(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.ROLE_IN))

    role: PlatformRole


class AddMemberInput(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.MEMBER_IN)
    )

    email: EmailStr
    role: MerchantRole = Field(default=MerchantRole.STAFF, description="Members are added as staff")


class Member(BaseModel):
    """A user's membership of one merchant, named by the user's id (`user_id`)."""

    model_config = ConfigDict(json_schema_extra=ex.example(ex.MEMBER))

    user_id: UUID
    email: str
    role: MerchantRole

    @classmethod
    def of(cls, member: domain.Member) -> Member:
        return cls(user_id=member.user_id, email=member.email, role=member.role)


class MemberPage(PageOut[Member]):
    """A page of a merchant's members."""
