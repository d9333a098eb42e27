"""svc-coupons: generated from contracts/openapi/coupons.json by make contracts; do not edit."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict, cast

from platform_client.transport import Transport, _path


class AcceptListingIn(TypedDict):
    """AcceptListingIn"""

    offered_coupon_code: str


class AcceptTransferIn(TypedDict):
    """AcceptTransferIn"""

    claim_token: str


class AllocationIn(TypedDict):
    """AllocationIn"""

    partner_merchant_id: str
    quantity: int


class AllocationOut(TypedDict):
    """AllocationOut"""

    id: str
    campaign_id: str
    merchant_id: str
    partner_merchant_id: str
    quantity: int
    issued: int
    created_at: str


class CampaignIn(TypedDict):
    """CampaignIn"""

    merchant_id: str
    title: str
    description: NotRequired[str | None]
    discount_type: DiscountType
    discount_value: int
    currency: NotRequired[str | None]
    min_spend: NotRequired[int | None]
    total_quantity: NotRequired[int | None]
    per_customer_limit: NotRequired[int]
    starts_at: str
    ends_at: str
    validity_days: NotRequired[int | None]
    outlet_ids: NotRequired[list[str]]
    transferable: NotRequired[bool]
    tradable: NotRequired[bool]


class CampaignOut(TypedDict):
    """CampaignOut"""

    id: str
    merchant_id: str
    status: str
    title: str
    description: str | None
    discount_type: str
    discount_value: int
    currency: str | None
    min_spend: int | None
    total_quantity: int | None
    per_customer_limit: int
    starts_at: str
    ends_at: str
    validity_days: int | None
    outlet_ids: list[str]
    transferable: bool
    tradable: bool
    issued_count: int
    redeemed_count: int
    created_at: str
    updated_at: str


class CampaignPatch(TypedDict):
    """CampaignPatch"""

    title: NotRequired[str | None]
    description: NotRequired[str | None]
    discount_type: NotRequired[DiscountType | None]
    discount_value: NotRequired[int | None]
    currency: NotRequired[str | None]
    min_spend: NotRequired[int | None]
    total_quantity: NotRequired[int | None]
    per_customer_limit: NotRequired[int | None]
    starts_at: NotRequired[str | None]
    ends_at: NotRequired[str | None]
    validity_days: NotRequired[int | None]
    outlet_ids: NotRequired[list[str] | None]
    transferable: NotRequired[bool | None]
    tradable: NotRequired[bool | None]


class CampaignSummaryOut(TypedDict):
    """CampaignSummaryOut"""

    id: str
    merchant_id: str
    title: str
    status: str
    discount_type: str
    discount_value: int
    currency: str | None
    min_spend: int | None
    ends_at: str
    outlet_ids: list[str]
    transferable: bool
    tradable: bool


class ClaimCodeIn(TypedDict):
    """ClaimCodeIn"""

    code: str


class CodeOut(TypedDict):
    """CodeOut"""

    code: str
    created_at: str


class CodesIn(TypedDict):
    """CodesIn"""

    count: int


class CodesOut(TypedDict):
    """CodesOut"""

    generated: int


class CouponOut(TypedDict):
    """CouponOut"""

    id: str
    code: str
    campaign_id: str
    merchant_id: str
    owner_user_id: str | None
    status: str
    issued_at: str | None
    expires_at: str | None
    redeemed_at: str | None
    campaign: CampaignSummaryOut


class CouponSummaryOut(TypedDict):
    """A coupon without its code."""

    id: str
    campaign_id: str
    merchant_id: str
    status: str
    issued_at: str | None
    expires_at: str | None
    campaign: CampaignSummaryOut


class DistributorOut(TypedDict):
    """DistributorOut"""

    merchant_id: str
    issued: int
    redeemed: int


class HistoryEventOut(TypedDict):
    """HistoryEventOut"""

    event_id: str
    type: str
    actor: str | None
    at: str
    data: dict[str, Any]


class IssueIn(TypedDict):
    """IssueIn"""

    user_id: str


class ListingIn(TypedDict):
    """ListingIn"""

    coupon_code: str
    wants: NotRequired[WantsIn]


class ListingOut(TypedDict):
    """ListingOut"""

    id: str
    status: str
    owner_user_id: str
    coupon: CouponSummaryOut
    wants: WantsOut
    created_at: str
    closed_at: str | None


class NewTransferOut(TypedDict):
    """NewTransferOut"""

    transfer_id: str
    status: str
    sender_user_id: str
    recipient_user_id: str | None
    created_at: str
    expires_at: str
    closed_at: str | None
    coupon: CouponSummaryOut
    claim_token: str


class OutletRedemptionsOut(TypedDict):
    """OutletRedemptionsOut"""

    outlet_id: str
    redeemed: int


class PageOutAllocationOut(TypedDict):
    """PageOut[AllocationOut]"""

    items: list[AllocationOut]
    next_cursor: str | None


class PageOutCampaignOut(TypedDict):
    """PageOut[CampaignOut]"""

    items: list[CampaignOut]
    next_cursor: str | None


class PageOutCodeOut(TypedDict):
    """PageOut[CodeOut]"""

    items: list[CodeOut]
    next_cursor: str | None


class PageOutCouponOut(TypedDict):
    """PageOut[CouponOut]"""

    items: list[CouponOut]
    next_cursor: str | None


class PageOutListingOut(TypedDict):
    """PageOut[ListingOut]"""

    items: list[ListingOut]
    next_cursor: str | None


class PageOutTransferOut(TypedDict):
    """PageOut[TransferOut]"""

    items: list[TransferOut]
    next_cursor: str | None


class Problem(TypedDict):
    """An error answer (RFC 9457); `code` is the stable machine code."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: NotRequired[list[ProblemFieldError]]


class ProblemFieldError(TypedDict):
    """ProblemFieldError"""

    loc: list[str | int]
    msg: str
    type: str | None


class ReasonIn(TypedDict):
    """ReasonIn"""

    reason: str


class RedeemIn(TypedDict):
    """RedeemIn"""

    outlet_id: str
    order_reference: NotRequired[str | None]
    order_amount: NotRequired[int | None]


class RedemptionOut(TypedDict):
    """RedemptionOut"""

    redemption_id: str
    coupon: CouponOut
    discount_amount: int | None
    redeemed_at: str
    outlet_id: str
    order_reference: str | None
    order_amount: int | None


class StatsOut(TypedDict):
    """StatsOut"""

    issued: int
    redeemed: int
    active: int
    expired: int
    voided: int
    reserved: int
    unassigned: int
    redemption_rate: float
    by_outlet: list[OutletRedemptionsOut]
    by_distributor: list[DistributorOut]


class SwapOut(TypedDict):
    """SwapOut"""

    received: CouponOut
    given: CouponSummaryOut
    listing: ListingOut


class TransferOut(TypedDict):
    """TransferOut"""

    transfer_id: str
    status: str
    sender_user_id: str
    recipient_user_id: str | None
    created_at: str
    expires_at: str
    closed_at: str | None
    coupon: CouponSummaryOut


class ValidateIn(TypedDict):
    """ValidateIn"""

    outlet_id: str
    order_amount: NotRequired[int | None]


class ValidationOut(TypedDict):
    """ValidationOut"""

    valid: bool
    reason: str | None
    discount_amount: int | None


class WantsIn(TypedDict):
    """WantsIn"""

    campaign_id: NotRequired[str | None]
    merchant_id: NotRequired[str | None]


class WantsOut(TypedDict):
    """WantsOut"""

    campaign_id: str | None
    merchant_id: str | None


DiscountType = Literal["percentage", "fixed_amount"]


class CouponsApi(Transport):
    """svc-coupons, one method per operation of its OpenAPI document."""

    async def get_coupons_health(self) -> dict[str, str]:
        """Liveness and database reachability"""
        return cast("dict[str, str]", await self._call("GET", "/api/v1/coupons/health"))

    async def get_coupon(self, code: str) -> CouponOut:
        """The coupon's owner, its merchant"""
        return cast("CouponOut", await self._call("GET", f"/api/v1/coupons/{_path(code)}"))

    async def validate_coupon(
        self, code: str, body: ValidateIn, *, idempotency_key: str | None = None
    ) -> ValidationOut:
        """Owner, staff, partner client: would redeem succeed? Changes nothing"""
        return cast(
            "ValidationOut",
            await self._call(
                "POST",
                f"/api/v1/coupons/{_path(code)}/validate",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def redeem_coupon(
        self, code: str, body: RedeemIn, *, idempotency_key: str | None = None
    ) -> RedemptionOut:
        """Owner, staff, partner client with coupons:redeem: use the coupon"""
        return cast(
            "RedemptionOut",
            await self._call(
                "POST",
                f"/api/v1/coupons/{_path(code)}/redeem",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def reverse_redemption(
        self, code: str, body: ReasonIn, *, idempotency_key: str | None = None
    ) -> CouponOut:
        """Owner: undo a redemption of the last 24 hours"""
        return cast(
            "CouponOut",
            await self._call(
                "POST",
                f"/api/v1/coupons/{_path(code)}/reverse-redemption",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def void_coupon(
        self, code: str, body: ReasonIn, *, idempotency_key: str | None = None
    ) -> CouponOut:
        """Owner, admin: make the coupon unusable for good"""
        return cast(
            "CouponOut",
            await self._call(
                "POST",
                f"/api/v1/coupons/{_path(code)}/void",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def get_coupon_history(self, code: str) -> list[HistoryEventOut]:
        """Coupon owner, merchant members, admin: its audit events, oldest first"""
        return cast(
            "list[HistoryEventOut]",
            await self._call("GET", f"/api/v1/coupons/{_path(code)}/history"),
        )

    async def claim_coupon(
        self, campaign_id: str, *, idempotency_key: str | None = None
    ) -> CouponOut:
        """Customer: take a coupon of an active campaign"""
        return cast(
            "CouponOut",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/claim",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def issue_coupon(
        self, campaign_id: str, body: IssueIn, *, idempotency_key: str | None = None
    ) -> CouponOut:
        """Owner, staff: give a customer a coupon"""
        return cast(
            "CouponOut",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/issue",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def list_codes(
        self, campaign_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> PageOutCodeOut:
        """Owner: the unassigned codes"""
        return cast(
            "PageOutCodeOut",
            await self._call(
                "GET",
                f"/api/v1/campaigns/{_path(campaign_id)}/codes",
                params={"limit": limit, "cursor": cursor},
            ),
        )

    async def generate_codes(
        self, campaign_id: str, body: CodesIn, *, idempotency_key: str | None = None
    ) -> CodesOut:
        """Owner: unassigned codes for offline distribution, all or none"""
        return cast(
            "CodesOut",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/codes",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def claim_code(
        self, body: ClaimCodeIn, *, idempotency_key: str | None = None
    ) -> CouponOut:
        """Customer: claim an unassigned code"""
        return cast(
            "CouponOut",
            await self._call(
                "POST",
                "/api/v1/coupons/claim",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def list_wallet(
        self,
        *,
        status: Literal["active", "history"] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageOutCouponOut:
        """Own coupons: ?status=active (usable now) or history (redeemed, expired, void)"""
        return cast(
            "PageOutCouponOut",
            await self._call(
                "GET", "/api/v1/wallet", params={"status": status, "limit": limit, "cursor": cursor}
            ),
        )

    async def list_campaigns(
        self,
        *,
        merchant_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageOutCampaignOut:
        """Active campaigns; a merchant's members also list its other statuses"""
        return cast(
            "PageOutCampaignOut",
            await self._call(
                "GET",
                "/api/v1/campaigns",
                params={
                    "merchant_id": merchant_id,
                    "status": status,
                    "limit": limit,
                    "cursor": cursor,
                },
            ),
        )

    async def create_campaign(
        self, body: CampaignIn, *, idempotency_key: str | None = None
    ) -> CampaignOut:
        """Owner: a new campaign, in draft"""
        return cast(
            "CampaignOut",
            await self._call(
                "POST", "/api/v1/campaigns", json=body, headers={"Idempotency-Key": idempotency_key}
            ),
        )

    async def get_campaign(self, campaign_id: str) -> CampaignOut:
        """An active campaign; the merchant's members see any status"""
        return cast(
            "CampaignOut", await self._call("GET", f"/api/v1/campaigns/{_path(campaign_id)}")
        )

    async def update_campaign(self, campaign_id: str, body: CampaignPatch) -> CampaignOut:
        """Owner: change a draft"""
        return cast(
            "CampaignOut",
            await self._call("PATCH", f"/api/v1/campaigns/{_path(campaign_id)}", json=body),
        )

    async def publish_campaign(
        self, campaign_id: str, *, idempotency_key: str | None = None
    ) -> CampaignOut:
        """Owner: draft -> active"""
        return cast(
            "CampaignOut",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/publish",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def pause_campaign(
        self, campaign_id: str, *, idempotency_key: str | None = None
    ) -> CampaignOut:
        """Owner: active -> paused"""
        return cast(
            "CampaignOut",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/pause",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def resume_campaign(
        self, campaign_id: str, *, idempotency_key: str | None = None
    ) -> CampaignOut:
        """Owner: paused -> active"""
        return cast(
            "CampaignOut",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/resume",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def end_campaign(
        self, campaign_id: str, *, idempotency_key: str | None = None
    ) -> CampaignOut:
        """Owner: active or paused -> ended"""
        return cast(
            "CampaignOut",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/end",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def get_campaign_stats(self, campaign_id: str) -> StatsOut:
        """Owner, staff: the numbers"""
        return cast(
            "StatsOut", await self._call("GET", f"/api/v1/campaigns/{_path(campaign_id)}/stats")
        )

    async def give_coupon(self, code: str, *, idempotency_key: str | None = None) -> NewTransferOut:
        """Coupon owner: give the coupon away; it is held until accepted or cancelled"""
        return cast(
            "NewTransferOut",
            await self._call(
                "POST",
                f"/api/v1/coupons/{_path(code)}/transfers",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def rotate_claim_token(
        self, transfer_id: str, *, idempotency_key: str | None = None
    ) -> NewTransferOut:
        """The sender: a new claim token for a pending gift; the previous one stops working"""
        return cast(
            "NewTransferOut",
            await self._call(
                "POST",
                f"/api/v1/transfers/{_path(transfer_id)}/claim-token",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def accept_transfer(
        self, transfer_id: str, body: AcceptTransferIn, *, idempotency_key: str | None = None
    ) -> CouponOut:
        """Any other customer, with the claim token: the coupon becomes theirs, new code"""
        return cast(
            "CouponOut",
            await self._call(
                "POST",
                f"/api/v1/transfers/{_path(transfer_id)}/accept",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def cancel_transfer(
        self, transfer_id: str, *, idempotency_key: str | None = None
    ) -> CouponOut:
        """The sender: take the coupon back, active again"""
        return cast(
            "CouponOut",
            await self._call(
                "POST",
                f"/api/v1/transfers/{_path(transfer_id)}/cancel",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def list_transfers(
        self,
        *,
        role: Literal["sent", "received"] | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageOutTransferOut:
        """Own transfers, newest first: ?role=sent or received (default both)"""
        return cast(
            "PageOutTransferOut",
            await self._call(
                "GET", "/api/v1/transfers", params={"role": role, "limit": limit, "cursor": cursor}
            ),
        )

    async def get_transfer(self, transfer_id: str) -> TransferOut:
        """Its sender and recipient: the transfer, its coupon without the code"""
        return cast(
            "TransferOut", await self._call("GET", f"/api/v1/transfers/{_path(transfer_id)}")
        )

    async def list_listings(
        self,
        *,
        campaign_id: str | None = None,
        merchant_id: str | None = None,
        mine: bool | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> PageOutListingOut:
        """Customers: open listings, newest first; ?campaign_id=, ?merchant_id=, ?mine=true"""
        return cast(
            "PageOutListingOut",
            await self._call(
                "GET",
                "/api/v1/exchange/listings",
                params={
                    "campaign_id": campaign_id,
                    "merchant_id": merchant_id,
                    "mine": mine,
                    "limit": limit,
                    "cursor": cursor,
                },
            ),
        )

    async def create_listing(
        self, body: ListingIn, *, idempotency_key: str | None = None
    ) -> ListingOut:
        """Coupon owner: offer a coupon of a tradable campaign for one matching `wants`"""
        return cast(
            "ListingOut",
            await self._call(
                "POST",
                "/api/v1/exchange/listings",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def get_listing(self, listing_id: str) -> ListingOut:
        """An open listing; own ones always"""
        return cast(
            "ListingOut", await self._call("GET", f"/api/v1/exchange/listings/{_path(listing_id)}")
        )

    async def accept_listing(
        self, listing_id: str, body: AcceptListingIn, *, idempotency_key: str | None = None
    ) -> SwapOut:
        """Another customer: swap one of their coupons matching `wants`; both get new codes"""
        return cast(
            "SwapOut",
            await self._call(
                "POST",
                f"/api/v1/exchange/listings/{_path(listing_id)}/accept",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def cancel_listing(
        self, listing_id: str, *, idempotency_key: str | None = None
    ) -> CouponOut:
        """The listing's owner: take the coupon back, active again"""
        return cast(
            "CouponOut",
            await self._call(
                "POST",
                f"/api/v1/exchange/listings/{_path(listing_id)}/cancel",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def list_campaign_allocations(
        self, campaign_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> PageOutAllocationOut:
        """Owner, staff: the campaign's shares, newest first"""
        return cast(
            "PageOutAllocationOut",
            await self._call(
                "GET",
                f"/api/v1/campaigns/{_path(campaign_id)}/allocations",
                params={"limit": limit, "cursor": cursor},
            ),
        )

    async def create_allocation(
        self, campaign_id: str, body: AllocationIn, *, idempotency_key: str | None = None
    ) -> AllocationOut:
        """Owner: hand a share of the campaign's quantity to a verified partner merchant"""
        return cast(
            "AllocationOut",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/allocations",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def list_allocations(
        self, *, merchant_id: str, limit: int | None = None, cursor: str | None = None
    ) -> PageOutAllocationOut:
        """A partner merchant's people: the shares it holds, ?merchant_id= (required)"""
        return cast(
            "PageOutAllocationOut",
            await self._call(
                "GET",
                "/api/v1/allocations",
                params={"merchant_id": merchant_id, "limit": limit, "cursor": cursor},
            ),
        )

    async def get_allocation(self, allocation_id: str) -> AllocationOut:
        """Both merchants' people: the share and what was issued from it"""
        return cast(
            "AllocationOut", await self._call("GET", f"/api/v1/allocations/{_path(allocation_id)}")
        )

    async def issue_from_allocation(
        self, allocation_id: str, body: IssueIn, *, idempotency_key: str | None = None
    ) -> CouponOut:
        """Partner merchant's owner, staff, or partner client with coupons:write"""
        return cast(
            "CouponOut",
            await self._call(
                "POST",
                f"/api/v1/allocations/{_path(allocation_id)}/issue",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )
