"""Per-caller limits of svc-coupons: one account or partner client may not take the whole
stage's throttle. Writes (claims, gifts, listings, redemptions) and code lookups (a coupon
read, its history read or validated by its code) each have a ceiling per window, counted
per principal (core.caller_limits); past it, 429 `too_many_requests` with Retry-After, as svc-auth's
per-address limits answer. The services take one count per operation, however it is
reached (REST, GraphQL, each alias)."""

from __future__ import annotations

from dataclasses import dataclass

from core.auth import Principal
from core.caller_limits import CallerLimit


@dataclass(frozen=True)
class CallerLimits:
    writes: CallerLimit | None = None
    lookups: CallerLimit | None = None

    def write(self, principal: Principal) -> None:
        if self.writes is not None:
            self.writes.take(principal.subject)

    def lookup(self, principal: Principal) -> None:
        if self.lookups is not None:
            self.lookups.take(principal.subject)


UNLIMITED = CallerLimits()
