"""svc-auth: generated from contracts/openapi/auth.json by make contracts; do not edit."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict, cast

from platform_client.transport import Transport, _path


class BodyIssueToken(TypedDict):
    """Body_issueToken"""

    grant_type: NotRequired[str | None]
    username: NotRequired[str | None]
    password: NotRequired[str | None]
    refresh_token: NotRequired[str | None]
    scope: NotRequired[str | None]
    client_id: NotRequired[str | None]
    client_secret: NotRequired[str | None]


class BodyRevokeToken(TypedDict):
    """Body_revokeToken"""

    token: NotRequired[str | None]
    token_type_hint: NotRequired[str | None]
    client_id: NotRequired[str | None]
    client_secret: NotRequired[str | None]


class ClientIn(TypedDict):
    """ClientIn"""

    name: str
    merchant_id: str
    scopes: list[str]


class ClientOut(TypedDict):
    """ClientOut"""

    client_id: str
    client_secret: str
    name: str
    merchant_id: str
    scopes: list[str]
    created_at: str


class DiscoveryOut(TypedDict):
    """DiscoveryOut"""

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


class MeOut(TypedDict):
    """MeOut"""

    id: str
    email: str
    display_name: str
    roles: list[str]
    memberships: list[MembershipOut]
    created_at: str


class MemberIn(TypedDict):
    """MemberIn"""

    email: str
    role: NotRequired[Literal["staff"]]


class MemberOut(TypedDict):
    """MemberOut"""

    user_id: str
    email: str
    role: str


class MembershipOut(TypedDict):
    """MembershipOut"""

    merchant_id: str
    role: str


class OAuthErrorOut(TypedDict):
    """OAuthErrorOut"""

    error: str
    error_description: str


class PageOutUserOut(TypedDict):
    """PageOut[UserOut]"""

    items: list[UserOut]
    next_cursor: str | None


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


class RegisterIn(TypedDict):
    """RegisterIn"""

    email: str
    password: str
    display_name: str


class RoleIn(TypedDict):
    """RoleIn"""

    role: str


class TokenOut(TypedDict):
    """TokenOut"""

    access_token: str
    token_type: NotRequired[str]
    expires_in: int
    scope: str
    refresh_token: NotRequired[str | None]


class UserOut(TypedDict):
    """UserOut"""

    id: str
    email: str
    display_name: str
    roles: list[str]
    created_at: str


class AuthApi(Transport):
    """svc-auth, one method per operation of its OpenAPI document."""

    async def get_auth_health(self) -> dict[str, str]:
        """Liveness and database reachability"""
        return cast("dict[str, str]", await self._call("GET", "/api/v1/auth/health"))

    async def issue_token(self, body: BodyIssueToken) -> TokenOut:
        """Token endpoint: password, refresh_token and client_credentials grants"""
        return cast("TokenOut", await self._call("POST", "/api/v1/auth/token", data=body))

    async def revoke_token(self, body: BodyRevokeToken) -> Any:
        """Revocation endpoint (RFC 7009): 200 whatever the token was"""
        return cast("Any", await self._call("POST", "/api/v1/auth/revoke", data=body))

    async def get_jwks(self) -> Any:
        """The public keys that verify access tokens"""
        return cast("Any", await self._call("GET", "/.well-known/jwks.json"))

    async def get_open_id_configuration(self) -> DiscoveryOut:
        """Authorization server metadata"""
        return cast("DiscoveryOut", await self._call("GET", "/.well-known/openid-configuration"))

    async def register_user(self, body: RegisterIn) -> UserOut:
        """Anyone: create an account (a customer); sign in at the token endpoint"""
        return cast("UserOut", await self._call("POST", "/api/v1/auth/register", json=body))

    async def get_me(self) -> MeOut:
        """The signed-in user: roles and merchant memberships"""
        return cast("MeOut", await self._call("GET", "/api/v1/auth/me"))

    async def list_users(
        self, *, email: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> PageOutUserOut:
        """Admin: list users"""
        return cast(
            "PageOutUserOut",
            await self._call(
                "GET",
                "/api/v1/auth/users",
                params={"email": email, "limit": limit, "cursor": cursor},
            ),
        )

    async def grant_role(
        self, user_id: str, body: RoleIn, *, idempotency_key: str | None = None
    ) -> UserOut:
        """Admin: grant a role"""
        return cast(
            "UserOut",
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

    async def list_members(self, merchant_id: str) -> list[MemberOut]:
        """Owner, admin: the merchant's members"""
        return cast(
            "list[MemberOut]",
            await self._call("GET", f"/api/v1/auth/merchants/{_path(merchant_id)}/members"),
        )

    async def add_member(
        self, merchant_id: str, body: MemberIn, *, idempotency_key: str | None = None
    ) -> MemberOut:
        """Owner, admin: add a registered user as staff"""
        return cast(
            "MemberOut",
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
        self, body: ClientIn, *, idempotency_key: str | None = None
    ) -> ClientOut:
        """Owner, admin: create a partner client for a merchant; its secret is shown only here"""
        return cast(
            "ClientOut",
            await self._call(
                "POST",
                "/api/v1/auth/clients",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )
