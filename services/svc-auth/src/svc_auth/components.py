"""svc-auth's process-wide parts (keys, hasher, policy) and the services built per request.

This is the composition root: the one place that ties services to their repositories.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.config import PlatformSettings
from core.events.outbox import OutboxWriter
from core.runtime import ServiceRuntime
from svc_auth.config import AuthSettings
from svc_auth.repositories.clients import ClientRepository
from svc_auth.repositories.memberships import MembershipRepository
from svc_auth.repositories.refresh_tokens import RefreshTokenRepository
from svc_auth.repositories.schema_model import platform_tables
from svc_auth.repositories.throttle import DynamoCounter, DynamoMarks
from svc_auth.repositories.users import UserRepository
from svc_auth.services.accounts import AccountService
from svc_auth.services.clients import ClientService
from svc_auth.services.limits import AddressLimit
from svc_auth.services.members import MembershipService
from svc_auth.services.oauth import TokenPolicy, TokenService
from svc_auth.services.sign_in import SignInGuard, SignInLimits
from svc_auth.utils.passwords import PasswordHasher
from svc_auth.utils.signing import KeyRing, SigningKey, local_key_ring


def load_key_ring(settings: AuthSettings, platform: PlatformSettings) -> KeyRing:
    if settings.signing_key is not None:
        previous = (
            (SigningKey.from_pem(settings.previous_signing_key.get_secret_value()),)
            if settings.previous_signing_key
            else ()
        )
        return KeyRing(SigningKey.from_pem(settings.signing_key.get_secret_value()), previous)
    return local_key_ring(platform.keys_dir)


def _outbox(session: AsyncSession) -> OutboxWriter:
    """Events written in the request's own transaction."""
    return OutboxWriter(platform_tables.outbox, session)


@dataclass
class AuthComponents:
    runtime: ServiceRuntime
    settings: AuthSettings
    keys: KeyRing
    hasher: PasswordHasher
    policy: TokenPolicy
    sign_ins: SignInGuard
    sign_up_limit: AddressLimit
    token_limit: AddressLimit

    @classmethod
    def build(
        cls, runtime: ServiceRuntime, settings: AuthSettings, keys: KeyRing
    ) -> AuthComponents:
        platform = runtime.settings

        def counter(prefix: str, window_seconds: int) -> DynamoCounter:
            return DynamoCounter(
                runtime.dynamo, platform.cache_table, prefix=prefix, window_seconds=window_seconds
            )

        return cls(
            runtime=runtime,
            settings=settings,
            keys=keys,
            hasher=PasswordHasher(
                time_cost=settings.password_time_cost,
                memory_kib=settings.password_memory_kib,
                parallelism=settings.password_parallelism,
            ),
            policy=TokenPolicy(
                issuer=platform.jwt_issuer,
                audience=platform.jwt_audience,
                access_token_ttl=settings.access_token_ttl_seconds,
                refresh_token_ttl=timedelta(days=settings.refresh_token_ttl_days),
            ),
            sign_ins=SignInGuard(
                failures=counter("login-failures", settings.login_window_seconds),
                familiar=DynamoMarks(
                    runtime.dynamo,
                    platform.cache_table,
                    prefix="signed-in-from",
                    ttl_seconds=int(timedelta(days=settings.login_familiar_days).total_seconds()),
                ),
                limits=SignInLimits(
                    from_one_address=settings.login_max_failures,
                    per_account=settings.login_account_max_failures,
                    per_address=settings.login_address_max_failures,
                ),
            ),
            sign_up_limit=AddressLimit(
                counter("rate-register", settings.register_window_seconds),
                ceiling=settings.register_per_address,
            ),
            token_limit=AddressLimit(
                counter("rate-token", settings.token_window_seconds),
                ceiling=settings.token_per_address,
            ),
        )

    def accounts(self, session: AsyncSession) -> AccountService:
        return AccountService(
            users=UserRepository(session),
            events=_outbox(session),
            hasher=self.hasher,
            sign_ups=self.sign_up_limit,
        )

    def memberships(self, session: AsyncSession) -> MembershipService:
        return MembershipService(
            users=UserRepository(session),
            memberships=MembershipRepository(session),
            events=_outbox(session),
        )

    def clients(self, session: AsyncSession) -> ClientService:
        return ClientService(
            clients=ClientRepository(session),
            memberships=MembershipRepository(session),
            events=_outbox(session),
        )

    def tokens(self, session: AsyncSession) -> TokenService:
        return TokenService(
            users=UserRepository(session),
            clients=ClientRepository(session),
            refresh_tokens=RefreshTokenRepository(session),
            sign_ins=self.sign_ins,
            requests=self.token_limit,
            hasher=self.hasher,
            signer=self.keys.current,
            policy=self.policy,
        )
