"""svc-coupons's process-wide parts (the merchants client, caches) and the services built
per request.

This is the composition root: the one place that ties services to their repositories.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from core.caller_limits import CallerLimit
from core.dynamo import WindowCounter
from core.events.outbox import OutboxWriter
from core.runtime import ServiceRuntime
from svc_coupons.config import CouponsSettings
from svc_coupons.repositories.allocations import AllocationRepository
from svc_coupons.repositories.audit import AuditHistory
from svc_coupons.repositories.cache import DynamoCache
from svc_coupons.repositories.campaigns import CampaignRepository
from svc_coupons.repositories.code_export import UnassignedCodeExport
from svc_coupons.repositories.coupons import CouponRepository
from svc_coupons.repositories.customer_limits import CustomerLimitRepository
from svc_coupons.repositories.listings import ListingRepository
from svc_coupons.repositories.merchant_directory import HttpMerchantDirectory, MerchantsHttp
from svc_coupons.repositories.redemptions import RedemptionRepository
from svc_coupons.repositories.schema_model import platform_tables
from svc_coupons.repositories.transfers import TransferRepository
from svc_coupons.services.allocations import AllocationService
from svc_coupons.services.caller_limits import CallerLimits
from svc_coupons.services.campaigns import CampaignService
from svc_coupons.services.claim_refusals import ClaimRefusals
from svc_coupons.services.claim_tokens import ClaimTokens
from svc_coupons.services.claims_in_flight import ClaimsInFlight
from svc_coupons.services.coupons import CouponService
from svc_coupons.services.issuing import IssuingService
from svc_coupons.services.listings import ListingService
from svc_coupons.services.redemption import RedemptionService
from svc_coupons.services.transfers import TransferService

# Rows a sweep chore closes per transaction; it runs batches until one comes back short
# or its share of the sweep's time is spent.
SWEEP_BATCH = 100
# Each draining chore's time, as a share of OUTBOX_SWEEP_BUDGET_SECONDS (deployed: half the
# function's timeout). The two chores take a quarter of the timeout at most, the outbox its
# half after them, and what is left covers the batch in flight at each deadline, the
# retention chore and the report: a backlog waits for the next run instead of keeping the
# function busy until it times out with the outbox undelivered.
DRAIN_SHARE_OF_SWEEP_BUDGET = 0.25

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    import httpx


def caller_limits(runtime: ServiceRuntime, settings: CouponsSettings) -> CallerLimits:
    if not settings.caller_limits:
        return CallerLimits()

    def limit(kind: str, ceiling: int) -> CallerLimit:
        counter = WindowCounter(
            runtime.dynamo,
            runtime.settings.cache_table,
            prefix=f"coupons-caller-{kind}",
            window_seconds=settings.caller_window_seconds,
        )
        return CallerLimit(
            counter,
            ceiling=ceiling,
            window_seconds=settings.caller_window_seconds,
            sync_every=max(1, int(ceiling * settings.caller_limit_slack)),
            title=f"Too many {kind} by this caller",
        )

    return CallerLimits(
        writes=limit("writes", settings.caller_writes_per_window),
        lookups=limit("lookups", settings.caller_lookups_per_window),
    )


def claims_in_flight(runtime: ServiceRuntime, settings: CouponsSettings) -> ClaimsInFlight:
    """Unset, half the write pool: a hot campaign's claims queue on the same rows, so more of
    them waiting at once gives it no more coupons per second, while the other half of the
    connections stays free for every other campaign, lookup and redemption. In Lambda (a
    pool of 1 + 1, one request at a time) that is one, and never refuses anything."""
    per_campaign = settings.claims_in_flight_per_campaign
    if per_campaign is None:
        pool = runtime.settings.database_pool_size + runtime.settings.database_max_overflow
        per_campaign = max(1, pool // 2)
    return ClaimsInFlight(
        per_campaign=per_campaign, retry_after_seconds=settings.campaign_busy_retry_after_seconds
    )


def _outbox(session: AsyncSession) -> OutboxWriter:
    """Events written in the request's own transaction."""
    return OutboxWriter(platform_tables.outbox, session)


@dataclass
class CouponsComponents:
    runtime: ServiceRuntime
    settings: CouponsSettings
    merchants_http: MerchantsHttp
    merchant_cache: DynamoCache
    code_export: UnassignedCodeExport
    claim_tokens: ClaimTokens
    caller_limits: CallerLimits
    claim_refusals: ClaimRefusals
    claims_in_flight: ClaimsInFlight
    # Seconds, for the sweep chores' deadline; a test moves it on by hand.
    clock: Callable[[], float] = field(default=time.monotonic)

    @classmethod
    def build(
        cls,
        runtime: ServiceRuntime,
        settings: CouponsSettings,
        merchants_transport: httpx.AsyncBaseTransport | None = None,
    ) -> CouponsComponents:
        return cls(
            runtime=runtime,
            settings=settings,
            merchants_http=MerchantsHttp(
                base_url=settings.merchants_api_url,
                timeout=settings.merchants_timeout_seconds,
                transport=merchants_transport,
            ),
            merchant_cache=DynamoCache(
                runtime.dynamo,
                runtime.settings.cache_table,
                prefix="coupons",
                ttl_seconds=settings.merchant_cache_seconds,
                local_seconds=settings.merchant_cache_local_seconds,
            ),
            code_export=UnassignedCodeExport(
                runtime.database, batch_size=settings.code_export_batch
            ),
            claim_tokens=ClaimTokens(runtime.server_keys),
            caller_limits=caller_limits(runtime, settings),
            claim_refusals=ClaimRefusals(recheck_seconds=settings.claim_refusal_recheck_seconds),
            claims_in_flight=claims_in_flight(runtime, settings),
        )

    def merchants(self, authorization: str | None) -> HttpMerchantDirectory:
        return HttpMerchantDirectory(
            http=self.merchants_http, cache=self.merchant_cache, authorization=authorization
        )

    def campaigns(self, session: AsyncSession, *, authorization: str | None) -> CampaignService:
        return CampaignService(
            campaigns=CampaignRepository(session),
            coupons=CouponRepository(session),
            redemptions=RedemptionRepository(session),
            merchants=self.merchants(authorization),
            events=_outbox(session),
            claim_refusals=self.claim_refusals,
        )

    def issuing(self, session: AsyncSession, *, authorization: str | None) -> IssuingService:
        return IssuingService(
            campaigns=CampaignRepository(session),
            coupons=CouponRepository(session),
            limits=CustomerLimitRepository(session),
            merchants=self.merchants(authorization),
            events=_outbox(session),
            code_export=self.code_export,
            caller_limits=self.caller_limits,
            refusals=self.claim_refusals,
            in_flight=self.claims_in_flight,
        )

    def coupons(self, session: AsyncSession) -> CouponService:
        return CouponService(
            campaigns=CampaignRepository(session),
            coupons=CouponRepository(session),
            audit=AuditHistory(self.runtime.audit),
            caller_limits=self.caller_limits,
        )

    def redemptions(self, session: AsyncSession, *, authorization: str | None) -> RedemptionService:
        return RedemptionService(
            campaigns=CampaignRepository(session),
            coupons=CouponRepository(session),
            redemptions=RedemptionRepository(session),
            merchants=self.merchants(authorization),
            events=_outbox(session),
            reversal_window=timedelta(hours=self.settings.reversal_window_hours),
            caller_limits=self.caller_limits,
        )

    def transfers(self, session: AsyncSession, *, authorization: str | None) -> TransferService:
        return TransferService(
            transfers=TransferRepository(session),
            coupons=CouponRepository(session),
            campaigns=CampaignRepository(session),
            merchants=self.merchants(authorization),
            claim_tokens=self.claim_tokens,
            lifetime=timedelta(hours=self.settings.transfer_lifetime_hours),
            idempotency_retention=timedelta(
                hours=self.runtime.settings.idempotency_key_retention_hours
            ),
            caller_limits=self.caller_limits,
        )

    def listings(self, session: AsyncSession, *, authorization: str | None) -> ListingService:
        return ListingService(
            listings=ListingRepository(session),
            coupons=CouponRepository(session),
            campaigns=CampaignRepository(session),
            merchants=self.merchants(authorization),
            caller_limits=self.caller_limits,
        )

    def allocations(self, session: AsyncSession, *, authorization: str | None) -> AllocationService:
        return AllocationService(
            allocations=AllocationRepository(session),
            campaigns=CampaignRepository(session),
            coupons=CouponRepository(session),
            merchants=self.merchants(authorization),
            events=_outbox(session),
        )

    async def _drain(self, one_batch: Callable[[AsyncSession], Awaitable[int]]) -> int:
        """Batches of a sweep chore, each in its own transaction (its locks held briefly,
        its work kept if a later one fails), until a batch comes back short or the chore's
        share of the sweep budget is spent: a backlog (a sweep that did not run for a while)
        is drained in as few runs as fit, not a batch per run, and never at the cost of the
        outbox sweep that follows the chores."""
        budget = self.runtime.settings.outbox_sweep_budget_seconds * DRAIN_SHARE_OF_SWEEP_BUDGET
        deadline = self.clock() + budget
        total = 0
        while True:
            async with self.runtime.unit_of_work() as uow:
                closed = await one_batch(uow.session)
            total += closed
            if closed < SWEEP_BATCH:
                return total
            if self.clock() >= deadline:
                logger.info(
                    "sweep chore stopped at its %.1f s budget; the next run goes on", budget
                )
                return total

    async def release_lapsed_transfers(self) -> int:
        """The scheduled sweep's share of svc-coupons: lapsed gifts, and gifts whose coupon
        ran out, give their coupons back."""
        # The sweep asks svc-merchants nothing: closing a lapsed gift needs no merchant.
        return await self._drain(
            lambda session: self.transfers(session, authorization=None).release_lapsed(
                batch=SWEEP_BATCH
            )
        )

    async def close_expired_listings(self) -> int:
        """The scheduled sweep's other share: listings whose coupon ran out close."""
        return await self._drain(
            lambda session: self.listings(session, authorization=None).close_expired(
                batch=SWEEP_BATCH
            )
        )
