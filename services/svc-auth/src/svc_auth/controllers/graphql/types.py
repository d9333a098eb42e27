"""svc-auth's GraphQL types, each derived from its REST model (controllers.dto): a field,
an enum or a nullability cannot differ between the two. The GraphQL names are the models'."""

from __future__ import annotations

import strawberry
from strawberry.experimental import pydantic as from_model

from svc_auth.controllers.dto import clients, users
from svc_auth.services.data_model.users import MerchantRole, PlatformRole

strawberry.enum(PlatformRole, name="PlatformRole")
strawberry.enum(MerchantRole, name="MerchantRole")


@from_model.type(model=users.Membership, all_fields=True, name="Membership")
class Membership:
    pass


@from_model.type(model=users.User, all_fields=True, name="User")
class User:
    pass


@from_model.type(model=users.UserPage, all_fields=True, name="UserPage")
class UserPage:
    pass


@from_model.type(model=users.Member, all_fields=True, name="Member")
class Member:
    pass


@from_model.type(model=users.MemberPage, all_fields=True, name="MemberPage")
class MemberPage:
    pass


@from_model.type(model=clients.PartnerClient, all_fields=True, name="PartnerClient")
class PartnerClient:
    pass


@from_model.input(model=users.RegisterUserInput, all_fields=True, name="RegisterUserInput")
class RegisterUserInput:
    pass


@from_model.input(model=users.GrantRoleInput, all_fields=True, name="GrantRoleInput")
class GrantRoleInput:
    pass


@from_model.input(model=users.AddMemberInput, all_fields=True, name="AddMemberInput")
class AddMemberInput:
    pass


@from_model.input(
    model=clients.CreatePartnerClientInput, all_fields=True, name="CreatePartnerClientInput"
)
class CreatePartnerClientInput:
    pass
