from __future__ import annotations

from datetime import datetime
from uuid import UUID

import strawberry

from svc_auth.services.data_model.clients import IssuedClient
from svc_auth.services.data_model.users import Member, User


@strawberry.type
class MembershipType:
    merchant_id: UUID
    role: str


@strawberry.type
class UserType:
    id: UUID
    email: str
    display_name: str
    roles: list[str]
    memberships: list[MembershipType]
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserType:
        return cls(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            roles=sorted(role.value for role in user.roles),
            memberships=[
                MembershipType(merchant_id=m.merchant_id, role=m.role.value)
                for m in user.memberships
            ],
            created_at=user.created_at,
        )


@strawberry.type
class UserPage:
    items: list[UserType]
    next_cursor: str | None


@strawberry.type
class MemberType:
    user_id: UUID
    email: str
    role: str

    @classmethod
    def of(cls, member: Member) -> MemberType:
        return cls(user_id=member.user_id, email=member.email, role=member.role.value)


@strawberry.type
class ClientType:
    client_id: str
    client_secret: str
    name: str
    merchant_id: UUID
    scopes: list[str]
    created_at: datetime

    @classmethod
    def of(cls, client: IssuedClient) -> ClientType:
        return cls(
            client_id=client.client_id,
            client_secret=client.client_secret,
            name=client.name,
            merchant_id=client.merchant_id,
            scopes=sorted(client.scopes),
            created_at=client.created_at,
        )
