"""svc-coupons's own settings (prefix COUPONS_); the shared ones come from core.config."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.config import Environment, MissingSecretError

LOCAL_MERCHANTS_API_URL = "http://127.0.0.1:8000"


class CouponsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COUPONS_", extra="ignore", frozen=True)

    merchants_api_url: str = Field(
        default=LOCAL_MERCHANTS_API_URL,
        description="Base URL of svc-merchants' public API (locally: the local gateway)",
    )
    merchants_timeout_seconds: float = Field(
        default=2.0, gt=0, description="svc-merchants' answer, before merchants_unavailable"
    )
    merchant_cache_seconds: int = Field(
        default=30, description="How long a merchant's status and outlets are trusted"
    )
    merchant_cache_local_seconds: float = Field(
        default=5.0,
        description="How long one process trusts a cached answer without asking DynamoDB",
    )
    reversal_window_hours: int = 24
    transfer_lifetime_hours: int = Field(
        default=72, ge=1, description="How long a gift waits to be accepted before it lapses"
    )
    # Per principal (an account or a partner client), per window (services.caller_limits):
    # writes are claims, gifts and their accepts, listings and their accepts, redemptions;
    # lookups read or validate a coupon by its code. Past a ceiling: 429 with Retry-After.
    caller_limits: bool = Field(default=True, description="Off: no per-caller limits at all")
    caller_writes_per_window: int = Field(default=120, ge=1)
    caller_lookups_per_window: int = Field(default=600, ge=1)
    caller_window_seconds: int = Field(default=60, ge=1)
    caller_limit_slack: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="A process adds a caller's requests to the shared DynamoDB count every"
        " this share of the ceiling (or a second after the last); it may let as many through"
        " past the ceiling before it hears the others' count. 0: every request",
    )
    # Flash sales (services.claim_refusals, services.claims_in_flight).
    claim_refusal_recheck_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How long a process answers a sold-out, ended or not-started campaign's"
        " claims from memory before one goes to the database again. 0: never from memory",
    )
    claims_in_flight_per_campaign: int | None = Field(
        default=None,
        ge=1,
        description="Claims of one campaign this process lets wait for the database at once;"
        " past it, 429 campaign_busy. Unset: half the write pool (DATABASE_POOL_SIZE +"
        " DATABASE_MAX_OVERFLOW), at least 1",
    )
    campaign_busy_retry_after_seconds: int = Field(
        default=1, ge=1, description="Retry-After of a 429 campaign_busy"
    )
    code_export_batch: int = Field(
        default=5000, description="Codes read per query while streaming a CSV export"
    )

    def check_for(self, environment: Environment) -> CouponsSettings:
        """Refuse to start a deployed service that would call svc-merchants on loopback."""
        if environment.is_deployed and self.merchants_api_url == LOCAL_MERCHANTS_API_URL:
            raise MissingSecretError(
                f"ENVIRONMENT={environment}: set COUPONS_MERCHANTS_API_URL to svc-merchants' URL"
            )
        return self
