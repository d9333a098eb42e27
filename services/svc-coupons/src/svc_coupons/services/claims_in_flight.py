"""A bound, per process, on the claims of one campaign that wait for the database at once.

The claims of one campaign all want the same few rows, so past a handful more of them
waiting adds no coupons per second: it only holds pooled connections that every other
campaign's claims, every lookup and every redemption of this process need. A claim past the
bound is refused at once (429 `campaign_busy` with Retry-After) instead of queueing for a
connection, and the customer's client retries, as after a per-caller 429.

A slot is held from the claim's first statement until the service is done with it: its read,
the merchant check and the claim statement. The commit that follows (one round trip, which
waits on no lock) is outside it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from svc_coupons.services.errors import CampaignBusy


class ClaimsInFlight:
    def __init__(self, *, per_campaign: int, retry_after_seconds: int) -> None:
        if per_campaign < 1:
            raise ValueError("at least one claim per campaign must be let through")
        self.per_campaign = per_campaign
        self._retry_after = retry_after_seconds
        self._waiting: dict[UUID, int] = {}

    def waiting(self, campaign_id: UUID) -> int:
        return self._waiting.get(campaign_id, 0)

    @contextmanager
    def slot(self, campaign_id: UUID) -> Iterator[None]:
        """One of the campaign's slots for the block, or CampaignBusy at once. The event
        loop runs one task at a time and nothing here awaits, so the count needs no lock."""
        waiting = self._waiting.get(campaign_id, 0)
        if waiting >= self.per_campaign:
            raise CampaignBusy(
                f"{waiting} claims on this campaign are being served; retry shortly",
                retry_after=self._retry_after,
            )
        self._waiting[campaign_id] = waiting + 1
        try:
            yield
        finally:
            left = self._waiting[campaign_id] - 1
            if left:
                self._waiting[campaign_id] = left
            else:
                del self._waiting[campaign_id]
