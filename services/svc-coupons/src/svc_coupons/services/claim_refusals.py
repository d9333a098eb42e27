"""A process's memory of campaigns that refuse every claim: sold out, ended, not started yet.

Once a flash sale sells out, most of its traffic is claims that can only be refused. Each
would otherwise read the campaign, open a transaction and hold a pooled connection to learn
what the last one learnt. The memory answers them with no statement at all.

It keeps only verdicts that the campaign's own record proves cannot change, or cannot change
before a moment the record names, so it never says "sold out" while a unit remains:

- sold out: `issued_count` only ever grows (nothing gives a unit back), and
  `total_quantity` changes only while the campaign is a draft (PATCH is draft-only), which a
  published campaign never becomes again. Recorded only when a committed read of the
  campaign showed none left (not on the claim statement's refusal alone, which a pause and
  resume between the statement and the read after it could explain), so the claim that
  takes the last unit does not record it: the next refused one does.
- ended: `ended` is the last status, and `ends_at` is fixed once published.
- not started yet (active, `now < starts_at`): until `starts_at`, then forgotten.

A draft is never remembered (its terms may change, and to a stranger it does not exist),
nor a paused campaign still within its period: publishing or resuming, in this process or
any other, must open it at once. A verdict is also checked against the database again
after `recheck_seconds` (one claim per campaign per that time in each process goes through),
so a rule that one day lets an active campaign's quantity grow, or a pause that turns the
right answer from `sold_out` into `campaign_not_active`, is seen everywhere within that time;
in this process a lifecycle change of the campaign (CampaignService) forgets it at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from core.errors import PlatformError
from svc_coupons.services.data_model.campaigns import Campaign, CampaignStatus
from svc_coupons.services.errors import CampaignNotActive, SoldOut

# Campaigns remembered at once; past it the memory starts afresh (a refusal costs one read
# again), so a process that sees many campaigns keeps a bounded footprint.
MAX_REMEMBERED = 10_000


@dataclass(frozen=True, slots=True)
class _Verdict:
    sold_out: bool  # else: the campaign is not running
    valid_until: datetime | None  # the campaign's own moment it stops holding (starts_at)
    ends_at: datetime
    recheck_at: float  # monotonic seconds


class ClaimRefusals:
    def __init__(
        self, *, recheck_seconds: float, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._recheck_seconds = recheck_seconds
        self._monotonic = monotonic
        self._verdicts: dict[UUID, _Verdict] = {}

    def refusal(self, campaign_id: UUID, now: datetime) -> PlatformError | None:
        """The error a claim on this campaign gets now, if one is known; None: ask the
        database."""
        verdict = self._verdicts.get(campaign_id)
        if verdict is None:
            return None
        if verdict.recheck_at <= self._monotonic() or (
            verdict.valid_until is not None and now >= verdict.valid_until
        ):
            del self._verdicts[campaign_id]
            return None
        # A claim answers campaign_not_active before sold_out (IssuingService._issue).
        if verdict.sold_out and now < verdict.ends_at:
            return SoldOut()
        return CampaignNotActive()

    def remember(self, campaign: Campaign, refused: PlatformError, now: datetime) -> None:
        """What a claim on `campaign` (as read before it) was refused with, if the record
        proves every claim after it is refused alike."""
        verdict = self._verdict(campaign, refused, now)
        if verdict is None:
            return
        if len(self._verdicts) >= MAX_REMEMBERED:
            self._verdicts.clear()
        self._verdicts[campaign.id] = verdict

    def forget(self, campaign_id: UUID) -> None:
        self._verdicts.pop(campaign_id, None)

    def _verdict(
        self, campaign: Campaign, refused: PlatformError, now: datetime
    ) -> _Verdict | None:
        if campaign.status is CampaignStatus.DRAFT:
            # Its terms may still change, and whether it exists at all is its merchant's
            # business (a stranger's claim is 404): asked every time.
            return None
        recheck_at = self._monotonic() + self._recheck_seconds
        terms = campaign.terms
        ended = campaign.status is CampaignStatus.ENDED or now >= terms.ends_at
        if isinstance(refused, SoldOut) and campaign.remaining() == 0:
            return _Verdict(
                sold_out=not ended,
                valid_until=None,
                ends_at=terms.ends_at,
                recheck_at=recheck_at,
            )
        if not isinstance(refused, CampaignNotActive):
            return None
        if ended:
            return _Verdict(
                sold_out=False, valid_until=None, ends_at=terms.ends_at, recheck_at=recheck_at
            )
        if campaign.status is CampaignStatus.ACTIVE and now < terms.starts_at:
            return _Verdict(
                sold_out=False,
                valid_until=terms.starts_at,
                ends_at=terms.ends_at,
                recheck_at=recheck_at,
            )
        # Paused, a draft, or refused by the statement while the read saw it running (paused
        # meanwhile): any of these may open again at any moment.
        return None
