"""What svc-coupons knows of a merchant: svc-merchants' answer, as far as it matters here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID


class MerchantStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    SUSPENDED = "suspended"


@dataclass(frozen=True, slots=True)
class Merchant:
    id: UUID
    status: str  # kept as svc-merchants says it; only "verified" lets coupons work
    owner_user_id: UUID | None

    @property
    def is_verified(self) -> bool:
        return self.status == MerchantStatus.VERIFIED
