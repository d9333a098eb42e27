"""svc-auth's own settings (prefix AUTH_); the shared ones come from core.config."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.config import Environment, MissingSecretError

WEAK_PASSWORDS = {"admin", "password", "changeme", "change-me", "admin123", "password123"}


class AuthSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTH_", extra="ignore", frozen=True)

    signing_key: SecretStr | None = Field(
        default=None, description="PEM of the RSA key that signs access tokens"
    )
    previous_signing_key: SecretStr | None = Field(
        default=None, description="PEM of the key being rotated out: still served in the JWKS"
    )
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_days: int = 30
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    password_parallelism: int = 4
    # Failed password sign-ins per window (svc_auth.services.sign_in): an account's from one
    # address; an account's from addresses it was not signed in from lately; an address's
    # at accounts not signed in from it lately. An address stays familiar to an account
    # for login_familiar_days after a sign-in from it.
    login_max_failures: int = Field(default=5, ge=1)
    login_account_max_failures: int = Field(default=20, ge=1)
    login_address_max_failures: int = Field(default=100, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    login_familiar_days: int = Field(default=30, ge=1)
    # Per client address (API Gateway's HTTP API has no per-IP limits: the service keeps
    # them). Generous for people behind one NAT; a flood is answered 429.
    register_per_address: int = Field(default=30, ge=1)
    register_window_seconds: int = Field(default=600, ge=1)
    token_per_address: int = Field(default=300, ge=1)
    token_window_seconds: int = Field(default=60, ge=1)
    bootstrap_admin_email: str | None = Field(
        default=None,
        validation_alias=AliasChoices("BOOTSTRAP_ADMIN_EMAIL", "AUTH_BOOTSTRAP_ADMIN_EMAIL"),
    )
    bootstrap_admin_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("BOOTSTRAP_ADMIN_PASSWORD", "AUTH_BOOTSTRAP_ADMIN_PASSWORD"),
    )

    def check_for(self, environment: Environment) -> AuthSettings:
        """Refuse to start a deployed service on defaults or weak secrets."""
        if not environment.is_deployed:
            return self
        if self.signing_key is None:
            raise MissingSecretError(f"ENVIRONMENT={environment}: set AUTH_SIGNING_KEY")
        password = self.bootstrap_admin_password
        if password is not None:
            value = password.get_secret_value()
            if len(value) < 12 or value.lower() in WEAK_PASSWORDS:
                raise MissingSecretError(
                    "BOOTSTRAP_ADMIN_PASSWORD is too weak for a deployed environment"
                )
        return self
