from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from svc_auth.controllers.dto import examples as ex
from svc_auth.services.data_model.users import Member, User


class RegisterIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.REGISTER_IN)
    )

    email: EmailStr = Field(max_length=320)
    # The upper bound keeps one request from costing a hashing marathon.
    password: str = Field(min_length=10, max_length=256)
    display_name: str = Field(min_length=1, max_length=100)


class UserOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.USER))

    id: UUID
    email: str
    display_name: str
    roles: list[str]
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            roles=sorted(role.value for role in user.roles),
            created_at=user.created_at,
        )


class MembershipOut(BaseModel):
    merchant_id: UUID
    role: str


class MeOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.ME))

    id: UUID
    email: str
    display_name: str
    roles: list[str]
    memberships: list[MembershipOut]
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> MeOut:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            roles=sorted(role.value for role in user.roles),
            memberships=[
                MembershipOut(merchant_id=m.merchant_id, role=m.role.value)
                for m in user.memberships
            ],
            created_at=user.created_at,
        )


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra=ex.example(ex.ROLE_IN))

    role: str = Field(min_length=1, max_length=30)


class MemberIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=ex.example(ex.MEMBER_IN)
    )

    email: EmailStr
    role: Literal["staff"] = "staff"


class MemberOut(BaseModel):
    model_config = ConfigDict(json_schema_extra=ex.example(ex.MEMBER))

    user_id: UUID
    email: str
    role: str

    @classmethod
    def of(cls, member: Member) -> MemberOut:
        return cls(user_id=member.user_id, email=member.email, role=member.role.value)
