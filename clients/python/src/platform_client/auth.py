"""svc-auth: generated from contracts/openapi/auth.json by make contracts; do not edit."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict, cast

from platform_client.transport import Transport, _path


class AddMemberInput(TypedDict):
    """AddMemberInput"""

    email: str
    role: NotRequired[MerchantRole]


class CreatePartnerClientInput(TypedDict):
    """CreatePartnerClientInput"""

    name: str
    merchant_id: str
    scopes: list[str]


class GrantRoleInput(TypedDict):
    """GrantRoleInput"""

    role: PlatformRole


class Member(TypedDict):
    """A user's membership of one merchant, named by the user's id (`user_id`)."""

    user_id: str
    email: str
    role: MerchantRole


class MemberPage(TypedDict):
    """A page of a merchant's members."""

    items: list[Member]
    next_cursor: str | None


class Membership(TypedDict):
    """Membership"""

    merchant_id: str
    role: MerchantRole


class OAuthError(TypedDict):
    """OAuthError"""

    error: str
    error_description: str


class OpenIdConfiguration(TypedDict):
    """OpenIdConfiguration"""

    issuer: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    response_types_supported: list[str]
    subject_types_supported: list[str]


class PartnerClient(TypedDict):
    """PartnerClient"""

    client_id: str
    client_secret: str
    name: str
    merchant_id: str
    scopes: list[str]
    created_at: str


class Problem(TypedDict):
    """An error answer (RFC 9457); `code` is the stable machine code."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: NotRequired[list[ProblemFieldError]]


class ProblemFieldError(TypedDict):
    """ProblemFieldError"""

    loc: list[str | int]
    msg: str
    type: str | None


class RegisterUserInput(TypedDict):
    """RegisterUserInput"""

    email: str
    password: str
    display_name: str


class RevocationRequest(TypedDict):
    """RevocationRequest"""

    token: NotRequired[str | None]
    token_type_hint: NotRequired[str | None]
    client_id: NotRequired[str | None]
    client_secret: NotRequired[str | None]


class Token(TypedDict):
    """Token"""

    access_token: str
    token_type: NotRequired[str]
    expires_in: int
    scope: str
    refresh_token: NotRequired[str | None]


class TokenRequest(TypedDict):
    """TokenRequest"""

    grant_type: NotRequired[str | None]
    username: NotRequired[str | None]
    password: NotRequired[str | None]
    refresh_token: NotRequired[str | None]
    scope: NotRequired[str | None]
    client_id: NotRequired[str | None]
    client_secret: NotRequired[str | None]


class User(TypedDict):
    """User"""

    id: str
    email: str
    display_name: str
    roles: list[PlatformRole]
    memberships: list[Membership]
    created_at: str


class UserPage(TypedDict):
    """A page of users."""

    items: list[User]
    next_cursor: str | None


MerchantRole = Literal["owner", "staff", "partner"]
PlatformRole = Literal["customer", "admin"]


class AuthApi(Transport):
    """svc-auth, one method per operation of its OpenAPI document."""

    async def get_auth_health(self) -> dict[str, str]:
        """Liveness and database reachability"""
        return cast("dict[str, str]", await self._call("GET", "/api/v1/auth/health"))

    async def issue_token(self, body: TokenRequest) -> Token:
        """Token endpoint: password, refresh_token and client_credentials grants"""
        return cast("Token", await self._call("POST", "/api/v1/auth/token", data=body))

    async def revoke_token(self, body: RevocationRequest) -> Any:
        """Revocation endpoint (RFC 7009): 200 whatever the token was"""
        return cast("Any", await self._call("POST", "/api/v1/auth/revoke", data=body))

    async def get_jwks(self) -> Any:
        """The public keys that verify access tokens"""
        return cast("Any", await self._call("GET", "/.well-known/jwks.json"))

    async def get_open_id_configuration(self) -> OpenIdConfiguration:
        """Authorization server metadata"""
        return cast(
            "OpenIdConfiguration", await self._call("GET", "/.well-known/openid-configuration")
        )

    async def register_user(self, body: RegisterUserInput) -> User:
        """Anyone: create an account (a customer); sign in at the token endpoint"""
        return cast("User", await self._call("POST", "/api/v1/auth/register", json=body))

    async def get_me(self) -> User:
        """The signed-in user: roles and merchant memberships"""
        return cast("User", await self._call("GET", "/api/v1/auth/me"))

    async def list_users(
        self, *, email: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> UserPage:
        """Admin: list users"""
        return cast(
            "UserPage",
            await self._call(
                "GET",
                "/api/v1/auth/users",
                params={"email": email, "limit": limit, "cursor": cursor},
            ),
        )

    async def grant_role(
        self, user_id: str, body: GrantRoleInput, *, idempotency_key: str | None = None
    ) -> User:
        """Admin: grant a role"""
        return cast(
            "User",
            await self._call(
                "POST",
                f"/api/v1/auth/users/{_path(user_id)}/roles",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def revoke_role(self, user_id: str, role: str) -> None:
        """Admin: remove a role"""
        await self._call("DELETE", f"/api/v1/auth/users/{_path(user_id)}/roles/{_path(role)}")

    async def list_members(
        self, merchant_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> MemberPage:
        """Owner, admin: the merchant's members"""
        return cast(
            "MemberPage",
            await self._call(
                "GET",
                f"/api/v1/auth/merchants/{_path(merchant_id)}/members",
                params={"limit": limit, "cursor": cursor},
            ),
        )

    async def add_member(
        self, merchant_id: str, body: AddMemberInput, *, idempotency_key: str | None = None
    ) -> Member:
        """Owner, admin: add a registered user as staff"""
        return cast(
            "Member",
            await self._call(
                "POST",
                f"/api/v1/auth/merchants/{_path(merchant_id)}/members",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def remove_member(self, merchant_id: str, user_id: str) -> None:
        """Owner, admin: remove a member (never the owner)"""
        await self._call(
            "DELETE", f"/api/v1/auth/merchants/{_path(merchant_id)}/members/{_path(user_id)}"
        )

    async def create_partner_client(
        self, body: CreatePartnerClientInput, *, idempotency_key: str | None = None
    ) -> PartnerClient:
        """Owner, admin: create a partner client for a merchant; its secret is shown only here"""
        return cast(
            "PartnerClient",
            await self._call(
                "POST",
                "/api/v1/auth/clients",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )
