"""The OAuth2 token and revocation endpoints' logic (RFC 6749, RFC 7009)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

from core.clock import utcnow
from svc_auth.services.data_model.clients import ClientKind, GrantType, OAuthClient, Scope
from svc_auth.services.data_model.tokens import RefreshTokenRecord, TokenResponse
from svc_auth.services.data_model.users import MerchantRole, PlatformRole, User, normalise_email
from svc_auth.services.errors import (
    InvalidClient,
    InvalidGrant,
    LoginThrottled,
    OAuthInvalidScope,
    RefreshTokenReused,
    UnauthorizedClient,
)
from svc_auth.services.events import auth_event
from svc_auth.services.limits import AddressLimit
from svc_auth.services.ports import (
    ClientStore,
    CountersUnavailable,
    RefreshTokenStore,
    TokenSigner,
    UserStore,
)
from svc_auth.services.sign_in import SignInGuard
from svc_auth.utils import opaque
from svc_auth.utils.passwords import PasswordHasher

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TokenPolicy:
    issuer: str
    audience: str
    access_token_ttl: int
    refresh_token_ttl: timedelta


def _requested(scope: str | None) -> frozenset[str] | None:
    return frozenset(scope.split()) if scope and scope.strip() else None


class TokenService:
    def __init__(
        self,
        *,
        users: UserStore,
        clients: ClientStore,
        refresh_tokens: RefreshTokenStore,
        sign_ins: SignInGuard,
        requests: AddressLimit,
        hasher: PasswordHasher,
        signer: TokenSigner,
        policy: TokenPolicy,
    ) -> None:
        self._users = users
        self._clients = clients
        self._refresh_tokens = refresh_tokens
        self._sign_ins = sign_ins
        self._requests = requests
        self._hasher = hasher
        self._signer = signer
        self._policy = policy

    # -- clients ---------------------------------------------------------------------------

    async def _client(self, client_id: str | None, client_secret: str | None) -> OAuthClient:
        client = await self._clients.get(client_id) if client_id else None
        if client is None:
            raise InvalidClient("Unknown client")
        if client.kind is ClientKind.CONFIDENTIAL and not opaque.matches(
            client_secret or "", client.secret_hash
        ):
            raise InvalidClient("Client authentication failed")
        return client

    @staticmethod
    def _allow(client: OAuthClient, grant: GrantType) -> None:
        if grant.value not in client.grant_types:
            raise UnauthorizedClient(f"This client may not use the {grant.value} grant")

    @staticmethod
    def _user_scopes(client: OAuthClient, user: User, requested: frozenset[str] | None) -> str:
        allowed = set(client.scopes)
        if PlatformRole.ADMIN not in user.roles:
            allowed.discard(Scope.ADMIN)
        if requested is not None:
            refused = requested - allowed
            if refused:
                raise OAuthInvalidScope(f"Not allowed for this client or user: {sorted(refused)}")
            allowed = set(requested)
        return " ".join(sorted(allowed))

    # -- tokens ----------------------------------------------------------------------------

    def _access_token(
        self,
        *,
        subject: str,
        client_id: str,
        scope: str,
        roles: list[str],
        memberships: list[dict[str, str]],
    ) -> str:
        now = int(time.time())
        return self._signer.sign(
            {
                "iss": self._policy.issuer,
                "aud": self._policy.audience,
                "sub": subject,
                "iat": now,
                "nbf": now,
                "exp": now + self._policy.access_token_ttl,
                "jti": uuid4().hex,
                "client_id": client_id,
                "scope": scope,
                "roles": roles,
                "memberships": memberships,
            }
        )

    async def _issue_for_user(
        self, *, user: User, client: OAuthClient, scope: str, family_id: UUID
    ) -> TokenResponse:
        refresh_token = opaque.new_secret()
        await self._refresh_tokens.add(
            token_hash=opaque.digest(refresh_token),
            family_id=family_id,
            user_id=user.id,
            client_id=client.client_id,
            scope=scope,
            expires_at=utcnow() + self._policy.refresh_token_ttl,
        )
        access_token = self._access_token(
            subject=str(user.id),
            client_id=client.client_id,
            scope=scope,
            roles=sorted(role.value for role in user.roles),
            memberships=[
                {"merchant_id": str(m.merchant_id), "role": m.role.value} for m in user.memberships
            ],
        )
        return TokenResponse(
            access_token=access_token,
            expires_in=self._policy.access_token_ttl,
            scope=scope,
            refresh_token=refresh_token,
        )

    # -- grants ----------------------------------------------------------------------------

    async def _admit(self, address: str) -> None:
        """Every grant takes one from `address`'s token requests, before any other work."""
        try:
            wait = await self._requests.take(address)
        except CountersUnavailable as exc:
            # A bound on volume only: refresh tokens and client secrets cannot be guessed,
            # and passwords have counters of their own, which let nothing through uncounted.
            logger.warning("token requests uncounted, request let through: %s", exc)
            return
        if wait is not None:
            raise LoginThrottled(
                "Too many token requests from this address; try again later", retry_after=wait
            )

    async def password_grant(
        self,
        *,
        client_id: str | None,
        client_secret: str | None,
        username: str,
        password: str,
        scope: str | None,
        address: str,
    ) -> TokenResponse:
        await self._admit(address)
        client = await self._client(client_id, client_secret)
        self._allow(client, GrantType.PASSWORD)
        account = normalise_email(username)
        attempt = await self._sign_ins.admit(account=account, address=address)
        credentials = await self._users.credentials(account)
        valid = await self._hasher.verify(
            credentials.password_hash if credentials else None, password
        )
        if credentials is None or not valid:
            raise InvalidGrant("The email or password is wrong")
        await self._sign_ins.succeeded(attempt)
        scopes = self._user_scopes(client, credentials.user, _requested(scope))
        return await self._issue_for_user(
            user=credentials.user, client=client, scope=scopes, family_id=uuid4()
        )

    async def refresh_grant(
        self,
        *,
        client_id: str | None,
        client_secret: str | None,
        refresh_token: str,
        scope: str | None,
        address: str,
    ) -> TokenResponse:
        await self._admit(address)
        client = await self._client(client_id, client_secret)
        self._allow(client, GrantType.REFRESH_TOKEN)
        record = await self._refresh_tokens.find(opaque.digest(refresh_token))
        if record is None or record.client_id != client.client_id:
            raise InvalidGrant("Unknown refresh token")
        if record.revoked_at is not None:
            raise InvalidGrant("The refresh token was revoked")
        if record.expires_at <= utcnow():
            raise InvalidGrant("The refresh token expired")
        if record.rotated_at is not None or not await self._refresh_tokens.mark_rotated(record.id):
            # A rotated token came back: it was stolen or replayed. End the whole family.
            await self._revoke_family(record, reason="reuse_detected")
            raise RefreshTokenReused("The refresh token was already used; sign in again")
        user = await self._users.get(record.user_id)
        if user is None:
            raise InvalidGrant("The account no longer exists")
        original = frozenset(record.scope.split())
        requested = _requested(scope)
        if requested is not None and not requested <= original:
            raise OAuthInvalidScope("A refreshed token cannot gain scopes")
        scopes = self._user_scopes(client, user, requested or original)
        return await self._issue_for_user(
            user=user, client=client, scope=scopes, family_id=record.family_id
        )

    async def client_credentials_grant(
        self, *, client_id: str | None, client_secret: str | None, scope: str | None, address: str
    ) -> TokenResponse:
        await self._admit(address)
        client = await self._client(client_id, client_secret)
        if client.kind is not ClientKind.CONFIDENTIAL:
            raise UnauthorizedClient("Public clients cannot use client_credentials")
        self._allow(client, GrantType.CLIENT_CREDENTIALS)
        requested = _requested(scope)
        if requested is not None and not requested <= client.scopes:
            raise OAuthInvalidScope(
                f"Not allowed for this client: {sorted(requested - client.scopes)}"
            )
        scopes = " ".join(sorted(requested or client.scopes))
        memberships = (
            [{"merchant_id": str(client.merchant_id), "role": MerchantRole.PARTNER.value}]
            if client.merchant_id
            else []
        )
        return TokenResponse(
            access_token=self._access_token(
                subject=client.client_id,
                client_id=client.client_id,
                scope=scopes,
                roles=[],
                memberships=memberships,
            ),
            expires_in=self._policy.access_token_ttl,
            scope=scopes,
        )

    async def _revoke_family(self, record: RefreshTokenRecord, *, reason: str) -> None:
        await self._refresh_tokens.revoke_family(
            record.family_id,
            event=auth_event(
                "user.refresh_tokens_revoked",
                entity_type="user",
                entity_id=record.user_id,
                # The client that presented the token; who held it is what is in doubt.
                actor=record.client_id,
                data={
                    "family_id": str(record.family_id),
                    "client_id": record.client_id,
                    "reason": reason,
                },
            ),
        )

    async def revoke(self, *, token: str, client_id: str | None, client_secret: str | None) -> None:
        """RFC 7009: revoke a refresh token (and its family) of this client. Unknown tokens,
        and access tokens (short-lived, checked offline), are answered the same way."""
        client = await self._client(client_id, client_secret)
        record = await self._refresh_tokens.find(opaque.digest(token))
        if record is not None and record.client_id == client.client_id:
            await self._revoke_family(record, reason="revoked_by_client")
