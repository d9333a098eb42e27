"""A merchant and its life: applied (pending), verified by an admin, suspended, reinstated.

    pending --verify--> verified --suspend--> suspended --reinstate--> verified

Nothing else moves: a pending application is not suspended (it was never trading), and
nothing returns to pending. Reinstating a suspended merchant does not re-run verification.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from functools import cache
from uuid import UUID, uuid4
from zoneinfo import available_timezones

from svc_merchants.services.data_model.changes import KEEP, Keep, checked, differences, pick
from svc_merchants.services.data_model.countries import ISO_3166_ALPHA_2
from svc_merchants.services.errors import (
    InvalidCountry,
    InvalidCurrency,
    InvalidTimezone,
    InvalidTransition,
)

CURRENCY_CODE = re.compile(r"[A-Z]{3}")


class MerchantStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    SUSPENDED = "suspended"


class MerchantAction(StrEnum):
    VERIFY = "verify"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


TRANSITIONS: dict[tuple[MerchantStatus, MerchantAction], MerchantStatus] = {
    (MerchantStatus.PENDING, MerchantAction.VERIFY): MerchantStatus.VERIFIED,
    (MerchantStatus.VERIFIED, MerchantAction.SUSPEND): MerchantStatus.SUSPENDED,
    (MerchantStatus.SUSPENDED, MerchantAction.REINSTATE): MerchantStatus.VERIFIED,
}


def next_status(status: MerchantStatus, action: MerchantAction) -> MerchantStatus:
    target = TRANSITIONS.get((status, action))
    if target is None:
        raise InvalidTransition(f"A {status.value} merchant cannot {action.value}")
    return target


def normalise_country(country: str) -> str:
    code = country.strip().upper()
    if code not in ISO_3166_ALPHA_2:
        raise InvalidCountry(f"{country!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def normalise_currency(currency: str) -> str:
    code = currency.strip().upper()
    if not CURRENCY_CODE.fullmatch(code):
        raise InvalidCurrency(f"{currency!r} is not an ISO 4217 currency code")
    return code


@cache
def _time_zones() -> frozenset[str]:
    # Scanning the zone database takes a while: once per process, on first use.
    return frozenset(available_timezones())


def check_timezone(timezone: str) -> str:
    name = timezone.strip()
    if name not in _time_zones():
        raise InvalidTimezone(f"{timezone!r} is not an IANA time zone name")
    return name


@dataclass(frozen=True, slots=True)
class MerchantChanges:
    """Profile fields of a PATCH; `KEEP` leaves a field as it is, category may be cleared."""

    name: str | Keep = KEEP
    country: str | Keep = KEEP
    currency: str | Keep = KEEP
    timezone: str | Keep = KEEP
    category: str | Keep | None = KEEP

    def validated(self) -> MerchantChanges:
        return replace(
            self,
            country=checked(self.country, normalise_country),
            currency=checked(self.currency, normalise_currency),
            timezone=checked(self.timezone, check_timezone),
        )


PROFILE_FIELDS = ("name", "country", "currency", "timezone", "category")


@dataclass(frozen=True, slots=True)
class Merchant:
    id: UUID
    name: str
    status: MerchantStatus
    owner_user_id: UUID  # the applicant; ownership itself is a membership kept by svc-auth
    country: str
    currency: str
    timezone: str
    category: str | None
    created_at: datetime
    updated_at: datetime
    verified_at: datetime | None = None
    suspended_at: datetime | None = None
    suspension_reason: str | None = None

    @classmethod
    def apply(
        cls,
        *,
        owner_user_id: UUID,
        name: str,
        country: str,
        currency: str,
        timezone: str,
        category: str | None,
        at: datetime,
    ) -> Merchant:
        """A new application, its fields checked and normalised."""
        return cls(
            id=uuid4(),
            name=name.strip(),
            status=MerchantStatus.PENDING,
            owner_user_id=owner_user_id,
            country=normalise_country(country),
            currency=normalise_currency(currency),
            timezone=check_timezone(timezone),
            category=category.strip() if category else None,
            created_at=at,
            updated_at=at,
        )

    def verify(self, *, at: datetime) -> Merchant:
        status = next_status(self.status, MerchantAction.VERIFY)
        return replace(self, status=status, verified_at=at, updated_at=at)

    def suspend(self, *, reason: str, at: datetime) -> Merchant:
        status = next_status(self.status, MerchantAction.SUSPEND)
        return replace(
            self, status=status, suspended_at=at, suspension_reason=reason.strip(), updated_at=at
        )

    def reinstate(self, *, at: datetime) -> Merchant:
        status = next_status(self.status, MerchantAction.REINSTATE)
        return replace(
            self, status=status, suspended_at=None, suspension_reason=None, updated_at=at
        )

    def changed(
        self, changes: MerchantChanges, *, at: datetime
    ) -> tuple[Merchant, dict[str, object]]:
        """The merchant after the changes, and the fields that really changed."""
        given = changes.validated()
        category = pick(given.category, self.category)
        after = replace(
            self,
            name=pick(given.name, self.name).strip(),
            country=pick(given.country, self.country),
            currency=pick(given.currency, self.currency),
            timezone=pick(given.timezone, self.timezone),
            category=category.strip() if category else None,
        )
        changed = differences(self, after, PROFILE_FIELDS)
        return (replace(after, updated_at=at) if changed else self), changed
