"""svc-merchants's own settings (prefix MERCHANTS_); the shared ones come from core.config."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MerchantsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MERCHANTS_", extra="ignore", frozen=True)

    max_outlets_per_merchant: int = Field(
        default=1000, ge=1, description="Bounds what one merchant's owner can create"
    )
