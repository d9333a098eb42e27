"""Campaigns: creation, the draft's changes, the lifecycle, lists and stats."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from core.auth import Principal
from core.clock import utcnow
from core.errors import Conflict, Forbidden
from core.pagination import Page, PageRequest
from svc_coupons.services.access import (
    OWNER_ONLY,
    OWNER_OR_STAFF,
    MerchantRole,
    has_role,
    role_of,
)
from svc_coupons.services.claim_refusals import ClaimRefusals
from svc_coupons.services.data_model.campaigns import (
    Campaign,
    CampaignAction,
    CampaignStatus,
    CampaignTerms,
    TransitionRefused,
    next_status,
)
from svc_coupons.services.data_model.coupons import CampaignStats
from svc_coupons.services.data_model.merchants import MerchantStatus
from svc_coupons.services.errors import (
    TERMS_ERRORS,
    CampaignNotDraft,
    CampaignNotFound,
    InvalidStatusFilter,
    InvalidTransition,
    MerchantNotVerified,
    QuantityBelowIssued,
    UnknownOutlet,
)
from svc_coupons.services.events import campaign_event
from svc_coupons.services.ports import (
    CampaignStore,
    CouponStore,
    EventLog,
    MerchantDirectory,
    RedemptionStore,
)

TRANSITION_EVENTS = {
    CampaignAction.PUBLISH: "campaign.published",
    CampaignAction.PAUSE: "campaign.paused",
    CampaignAction.RESUME: "campaign.resumed",
    CampaignAction.END: "campaign.ended",
}


def check_terms(terms: CampaignTerms) -> None:
    violations = terms.violations()
    if violations:
        violation, detail = violations[0]
        raise TERMS_ERRORS[violation](detail)


def check_quantity(terms: CampaignTerms, issued_count: int) -> None:
    """A total cannot go below what was already taken from it (generated codes count)."""
    total = terms.total_quantity
    if total is not None and total < issued_count:
        raise QuantityBelowIssued(
            f"total_quantity {total} is below the {issued_count} already issued"
        )


async def load_campaign(
    campaigns: CampaignStore,
    principal: Principal | None,
    campaign_id: UUID,
    *,
    roles: frozenset[MerchantRole],
    admin: bool = False,
) -> Campaign:
    """The campaign, if the caller holds one of `roles` for its merchant (or is an admin
    when `admin`). Otherwise 403 when the caller may know the campaign exists (it is
    active, or they are a member), 404 when not.

    Read without a lock: a caller is authorized before anything waits on the row, and a
    change locks it (get_for_update) only after every check that needs the network."""
    campaign = await campaigns.get(campaign_id)
    if campaign is None:
        raise CampaignNotFound()
    if has_role(principal, campaign.merchant_id, roles) or (
        admin and principal is not None and principal.is_admin
    ):
        return campaign
    if campaign.status is CampaignStatus.ACTIVE or role_of(principal, campaign.merchant_id):
        raise Forbidden("The caller's role for this merchant does not allow this")
    raise CampaignNotFound()


async def require_verified(merchants: MerchantDirectory, merchant_id: UUID) -> None:
    """Campaigns of a merchant that is not verified (pending, suspended, or not shown to
    the caller) neither start nor give out or redeem coupons."""
    merchant = await merchants.merchant(merchant_id)
    if merchant is None or not merchant.is_verified:
        status = merchant.status if merchant else "not visible"
        raise MerchantNotVerified(f"The merchant is {status}, not verified")


class CampaignService:
    def __init__(
        self,
        *,
        campaigns: CampaignStore,
        coupons: CouponStore,
        redemptions: RedemptionStore,
        merchants: MerchantDirectory,
        events: EventLog,
        claim_refusals: ClaimRefusals | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._campaigns = campaigns
        self._claim_refusals = claim_refusals
        self._coupons = coupons
        self._redemptions = redemptions
        self._merchants = merchants
        self._events = events
        self._clock = clock

    async def _check_outlets(self, merchant_id: UUID, outlet_ids: tuple[UUID, ...]) -> None:
        if not outlet_ids:
            return
        known = await self._merchants.outlet_ids(merchant_id, including=outlet_ids)
        unknown = set(outlet_ids) - known
        if unknown:
            raise UnknownOutlet(
                "Not outlets of this merchant: " + ", ".join(sorted(map(str, unknown)))
            )

    async def create(
        self, *, principal: Principal, merchant_id: UUID, terms: CampaignTerms
    ) -> Campaign:
        merchant = await self._merchants.merchant(merchant_id)
        # The token's owner membership is what authorizes. svc-merchants' record of who
        # applied only decides how a pending applicant is refused: 409 (not verified yet)
        # rather than 403 (a stranger). It never lets anyone write: an applicant without
        # the membership always stops at the 409 below.
        is_owner = role_of(principal, merchant_id) is MerchantRole.OWNER
        is_applicant = (
            merchant is not None
            and merchant.status == MerchantStatus.PENDING
            and principal.is_user(merchant.owner_user_id)
        )
        if not (is_owner or is_applicant):
            raise Forbidden("Only the merchant's owner may create its campaigns")
        check_terms(terms)
        if not is_owner or merchant is None or not merchant.is_verified:
            raise MerchantNotVerified()
        await self._check_outlets(merchant_id, terms.outlet_ids)
        campaign = await self._campaigns.create(
            merchant_id=merchant_id, terms=terms, created_by=principal.subject, now=self._clock()
        )
        await self._events.add(
            campaign_event(
                "campaign.created",
                campaign_id=campaign.id,
                actor=principal,
                data={"merchant_id": str(merchant_id), "title": terms.title},
            )
        )
        return campaign

    async def get(self, *, principal: Principal | None, campaign_id: UUID) -> Campaign:
        campaign = await self._campaigns.get(campaign_id)
        if campaign is None:
            raise CampaignNotFound()
        visible = (
            campaign.status is CampaignStatus.ACTIVE
            or role_of(principal, campaign.merchant_id) is not None
            or (principal is not None and principal.is_admin)
        )
        if not visible:
            raise CampaignNotFound()
        return campaign

    async def campaigns_by_ids(self, campaign_ids: list[UUID]) -> list[Campaign | None]:
        """For batch loaders: campaigns in the order asked, None where there is none."""
        found = {c.id: c for c in await self._campaigns.get_many(set(campaign_ids))}
        return [found.get(campaign_id) for campaign_id in campaign_ids]

    async def list(
        self,
        *,
        principal: Principal | None,
        merchant_id: UUID | None,
        status: str | None,
        page: PageRequest,
    ) -> Page[Campaign]:
        try:
            wanted = CampaignStatus(status) if status else CampaignStatus.ACTIVE
        except ValueError:
            raise InvalidStatusFilter(
                f"status is one of {', '.join(s.value for s in CampaignStatus)}"
            ) from None
        if wanted is not CampaignStatus.ACTIVE:
            is_admin = principal is not None and principal.is_admin
            is_member = merchant_id is not None and role_of(principal, merchant_id) is not None
            if not (is_admin or is_member):
                raise Forbidden("Only the merchant's members see its campaigns that are not active")
        return await self._campaigns.list(merchant_id=merchant_id, status=wanted, page=page)

    async def update(
        self, *, principal: Principal, campaign_id: UUID, changes: dict[str, Any]
    ) -> Campaign:
        # Authorize and check on an unlocked read, svc-merchants included: nobody waits on
        # the row for a caller who is refused, nor for the network.
        campaign = await load_campaign(self._campaigns, principal, campaign_id, roles=OWNER_ONLY)
        if campaign.status is not CampaignStatus.DRAFT:
            raise CampaignNotDraft()
        proposed = dataclasses.replace(campaign.terms, **changes)
        check_terms(proposed)
        check_quantity(proposed, campaign.issued_count)  # issued_count only ever grows
        if "outlet_ids" in changes:
            await self._check_outlets(campaign.merchant_id, tuple(changes["outlet_ids"]))
        # Then the row, as transition() does: lock, look again, merge into what it holds
        # now (another PATCH or a /codes may have come first), save.
        locked = await self._campaigns.get_for_update(campaign_id)
        assert locked is not None, "campaigns are never deleted"
        if locked.status is not CampaignStatus.DRAFT:
            raise CampaignNotDraft()
        terms = dataclasses.replace(locked.terms, **changes)
        check_terms(terms)
        check_quantity(terms, locked.issued_count)
        updated = await self._campaigns.save_terms(
            campaign_id=campaign_id, terms=terms, now=self._clock()
        )
        if updated is None:
            # The UPDATE is conditional too; under the lock it cannot lose, but if it ever
            # does, the answer is the same as above rather than an integrity error.
            current = await self._campaigns.get(campaign_id)
            if current is None or current.status is not CampaignStatus.DRAFT:
                raise CampaignNotDraft()
            check_quantity(terms, current.issued_count)
            raise Conflict("The campaign changed meanwhile; reload and retry")
        await self._events.add(
            campaign_event(
                "campaign.updated",
                campaign_id=campaign_id,
                actor=principal,
                data={"fields": sorted(changes)},
            )
        )
        return updated

    async def transition(
        self, *, principal: Principal, campaign_id: UUID, action: CampaignAction
    ) -> Campaign:
        campaign = await load_campaign(self._campaigns, principal, campaign_id, roles=OWNER_ONLY)
        if self._next_status(campaign, action) is CampaignStatus.ACTIVE:
            # A network call: made before the row is locked, never while it is.
            await require_verified(self._merchants, campaign.merchant_id)
        locked = await self._campaigns.get_for_update(campaign_id)
        assert locked is not None, "campaigns are never deleted"
        status = self._next_status(locked, action)
        updated = await self._campaigns.set_status(
            campaign_id=campaign_id, status=status, now=self._clock()
        )
        if self._claim_refusals is not None:
            # This process's claims then ask the database, which answers for the new status.
            self._claim_refusals.forget(campaign_id)
        await self._events.add(
            campaign_event(
                TRANSITION_EVENTS[action],
                campaign_id=campaign_id,
                actor=principal,
                data={"from": locked.status.value, "to": status.value},
            )
        )
        return updated

    @staticmethod
    def _next_status(campaign: Campaign, action: CampaignAction) -> CampaignStatus:
        try:
            return next_status(campaign.status, action)
        except TransitionRefused as refused:
            raise InvalidTransition(str(refused)) from None

    async def stats(self, *, principal: Principal, campaign_id: UUID) -> CampaignStats:
        campaign = await load_campaign(
            self._campaigns, principal, campaign_id, roles=OWNER_OR_STAFF
        )
        counts = await self._coupons.stats(campaign_id=campaign.id, now=self._clock())
        by_outlet = await self._redemptions.redeemed_by_outlet(campaign.id)
        by_distributor = await self._coupons.by_distributor(campaign.id)
        return dataclasses.replace(
            counts, by_outlet=tuple(by_outlet), by_distributor=tuple(by_distributor)
        )
