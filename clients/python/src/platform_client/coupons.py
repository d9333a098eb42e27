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


class Allocation(TypedDict):
    """Allocation"""

    id: str
    campaign_id: str
    merchant_id: str
    partner_merchant_id: str
    quantity: int
    issued: int
    created_at: str


class AllocationIn(TypedDict):
    """AllocationIn"""

    partner_merchant_id: str
    quantity: int


class AllocationPage(TypedDict):
    """A page of partner allocations, newest first."""

    items: list[Allocation]
    next_cursor: str | None


class Campaign(TypedDict):
    """Campaign"""

    id: str
    merchant_id: str
    status: CampaignStatus
    title: str
    description: str | None
    discount_type: DiscountType
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


class CampaignInput(TypedDict):
    """CampaignInput"""

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


class CampaignPage(TypedDict):
    """A page of campaigns, newest first."""

    items: list[Campaign]
    next_cursor: str | None


class CampaignPatch(TypedDict):
    """The fields to change in a draft. A field left out stays as it is; only description,"""

    title: NotRequired[str]
    description: NotRequired[str | None]
    discount_type: NotRequired[DiscountType]
    discount_value: NotRequired[int]
    currency: NotRequired[str | None]
    min_spend: NotRequired[int | None]
    total_quantity: NotRequired[int | None]
    per_customer_limit: NotRequired[int]
    starts_at: NotRequired[str]
    ends_at: NotRequired[str]
    validity_days: NotRequired[int | None]
    outlet_ids: NotRequired[list[str]]
    transferable: NotRequired[bool]
    tradable: NotRequired[bool]


class CampaignStats(TypedDict):
    """CampaignStats"""

    issued: int
    redeemed: int
    active: int
    expired: int
    voided: int
    reserved: int
    unassigned: int
    redemption_rate: float
    by_outlet: list[OutletRedemptions]
    by_distributor: list[DistributorStats]


class CampaignSummary(TypedDict):
    """What a coupon shows of its campaign, whatever the campaign's status."""

    id: str
    merchant_id: str
    title: str
    status: CampaignStatus
    discount_type: DiscountType
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


class Code(TypedDict):
    """An unassigned code of a campaign, for offline distribution."""

    code: str
    created_at: str


class CodePage(TypedDict):
    """A page of a campaign's unassigned codes, in code order."""

    items: list[Code]
    next_cursor: str | None


class CodesIn(TypedDict):
    """CodesIn"""

    count: int


class Coupon(TypedDict):
    """Coupon"""

    id: str
    code: str
    campaign_id: str
    merchant_id: str
    owner_user_id: str | None
    status: CouponStatus
    issued_at: str | None
    expires_at: str | None
    redeemed_at: str | None
    campaign: CampaignSummary


class CouponPage(TypedDict):
    """A page of a wallet, newest first."""

    items: list[Coupon]
    next_cursor: str | None


class CouponSummary(TypedDict):
    """A coupon without its code."""

    id: str
    campaign_id: str
    merchant_id: str
    status: CouponStatus
    issued_at: str | None
    expires_at: str | None
    campaign: CampaignSummary


class DistributorStats(TypedDict):
    """DistributorStats"""

    merchant_id: str
    issued: int
    redeemed: int


class GeneratedCodes(TypedDict):
    """GeneratedCodes"""

    generated: int


class HistoryEvent(TypedDict):
    """HistoryEvent"""

    event_id: str
    type: str
    actor: str | None
    at: str
    data: dict[str, Any]


class HistoryEventPage(TypedDict):
    """A page of a coupon's history, oldest first."""

    items: list[HistoryEvent]
    next_cursor: str | None


class IssueIn(TypedDict):
    """IssueIn"""

    user_id: str


class Listing(TypedDict):
    """Listing"""

    id: str
    status: ListingStatus
    owner_user_id: str
    coupon: CouponSummary
    wants: Wants
    created_at: str
    closed_at: str | None


class ListingIn(TypedDict):
    """ListingIn"""

    coupon_code: str
    wants: NotRequired[WantsInput]


class ListingPage(TypedDict):
    """A page of swap listings, newest first."""

    items: list[Listing]
    next_cursor: str | None


class NewTransfer(TypedDict):
    """A gift just made, or its claim token just rotated."""

    id: str
    status: TransferStatus
    sender_user_id: str
    recipient_user_id: str | None
    created_at: str
    expires_at: str
    closed_at: str | None
    coupon: CouponSummary
    claim_token: str


class OutletRedemptions(TypedDict):
    """OutletRedemptions"""

    outlet_id: str
    redeemed: int


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


class Redemption(TypedDict):
    """Redemption"""

    redemption_id: str
    coupon: Coupon
    discount_amount: int | None
    redeemed_at: str
    outlet_id: str
    order_reference: str | None
    order_amount: int | None


class Swap(TypedDict):
    """An accepted listing: the caller received one coupon and gave the other."""

    received: Coupon
    given: CouponSummary
    listing: Listing


class Transfer(TypedDict):
    """Transfer"""

    id: str
    status: TransferStatus
    sender_user_id: str
    recipient_user_id: str | None
    created_at: str
    expires_at: str
    closed_at: str | None
    coupon: CouponSummary


class TransferPage(TypedDict):
    """A page of gifts, newest first."""

    items: list[Transfer]
    next_cursor: str | None


class ValidateIn(TypedDict):
    """ValidateIn"""

    outlet_id: str
    order_amount: NotRequired[int | None]


class Validation(TypedDict):
    """Validation"""

    valid: bool
    reason: Refusal | None
    discount_amount: int | None


class Wants(TypedDict):
    """Wants"""

    campaign_id: str | None
    merchant_id: str | None


class WantsInput(TypedDict):
    """WantsInput"""

    campaign_id: NotRequired[str | None]
    merchant_id: NotRequired[str | None]


CampaignStatus = Literal["draft", "active", "paused", "ended"]
CouponStatus = Literal["unassigned", "active", "reserved", "redeemed", "expired", "void"]
DiscountType = Literal["percentage", "fixed_amount"]
ListingStatus = Literal["open", "accepted", "cancelled", "expired"]
Refusal = Literal[
    "already_redeemed",
    "coupon_expired",
    "coupon_void",
    "coupon_locked",
    "coupon_not_claimed",
    "campaign_not_active",
    "merchant_not_verified",
    "outlet_not_allowed",
    "min_spend_not_met",
]
TransferRole = Literal["sent", "received"]
TransferStatus = Literal["pending", "accepted", "cancelled", "expired"]
WalletFilter = Literal["active", "history"]


class CouponsApi(Transport):
    """svc-coupons, one method per operation of its OpenAPI document."""

    async def get_coupons_health(self) -> dict[str, str]:
        """Liveness and database reachability"""
        return cast("dict[str, str]", await self._call("GET", "/api/v1/coupons/health"))

    async def get_coupon(self, code: str) -> Coupon:
        """The coupon's owner, its merchant"""
        return cast("Coupon", await self._call("GET", f"/api/v1/coupons/{_path(code)}"))

    async def validate_coupon(
        self, code: str, body: ValidateIn, *, idempotency_key: str | None = None
    ) -> Validation:
        """Owner, staff, partner client: would redeem succeed? Changes nothing"""
        return cast(
            "Validation",
            await self._call(
                "POST",
                f"/api/v1/coupons/{_path(code)}/validate",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def redeem_coupon(
        self, code: str, body: RedeemIn, *, idempotency_key: str | None = None
    ) -> Redemption:
        """Owner, staff, partner client with coupons:redeem: use the coupon"""
        return cast(
            "Redemption",
            await self._call(
                "POST",
                f"/api/v1/coupons/{_path(code)}/redeem",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def reverse_redemption(
        self, code: str, body: ReasonIn, *, idempotency_key: str | None = None
    ) -> Coupon:
        """Owner: undo a redemption of the last 24 hours"""
        return cast(
            "Coupon",
            await self._call(
                "POST",
                f"/api/v1/coupons/{_path(code)}/reverse-redemption",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def void_coupon(
        self, code: str, body: ReasonIn, *, idempotency_key: str | None = None
    ) -> Coupon:
        """Owner, admin: make the coupon unusable for good"""
        return cast(
            "Coupon",
            await self._call(
                "POST",
                f"/api/v1/coupons/{_path(code)}/void",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def get_coupon_history(
        self, code: str, *, limit: int | None = None, cursor: str | None = None
    ) -> HistoryEventPage:
        """Coupon owner, merchant members, admin: its audit events, oldest first"""
        return cast(
            "HistoryEventPage",
            await self._call(
                "GET",
                f"/api/v1/coupons/{_path(code)}/history",
                params={"limit": limit, "cursor": cursor},
            ),
        )

    async def claim_coupon(self, campaign_id: str, *, idempotency_key: str | None = None) -> Coupon:
        """Customer: take a coupon of an active campaign"""
        return cast(
            "Coupon",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/claim",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def issue_coupon(
        self, campaign_id: str, body: IssueIn, *, idempotency_key: str | None = None
    ) -> Coupon:
        """Owner, staff: give a customer a coupon"""
        return cast(
            "Coupon",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/issue",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def list_codes(
        self, campaign_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> CodePage:
        """Owner: the unassigned codes"""
        return cast(
            "CodePage",
            await self._call(
                "GET",
                f"/api/v1/campaigns/{_path(campaign_id)}/codes",
                params={"limit": limit, "cursor": cursor},
            ),
        )

    async def generate_codes(
        self, campaign_id: str, body: CodesIn, *, idempotency_key: str | None = None
    ) -> GeneratedCodes:
        """Owner: unassigned codes for offline distribution, all or none"""
        return cast(
            "GeneratedCodes",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/codes",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def claim_code(self, body: ClaimCodeIn, *, idempotency_key: str | None = None) -> Coupon:
        """Customer: claim an unassigned code"""
        return cast(
            "Coupon",
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
        status: WalletFilter | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> CouponPage:
        """Own coupons: ?status=active (usable now) or history (redeemed, expired, void)"""
        return cast(
            "CouponPage",
            await self._call(
                "GET", "/api/v1/wallet", params={"status": status, "limit": limit, "cursor": cursor}
            ),
        )

    async def list_campaigns(
        self,
        *,
        merchant_id: str | None = None,
        status: CampaignStatus | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> CampaignPage:
        """Active campaigns; a merchant's members also list its other statuses"""
        return cast(
            "CampaignPage",
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
        self, body: CampaignInput, *, idempotency_key: str | None = None
    ) -> Campaign:
        """Owner: a new campaign, in draft"""
        return cast(
            "Campaign",
            await self._call(
                "POST", "/api/v1/campaigns", json=body, headers={"Idempotency-Key": idempotency_key}
            ),
        )

    async def get_campaign(self, campaign_id: str) -> Campaign:
        """An active campaign; the merchant's members see any status"""
        return cast("Campaign", await self._call("GET", f"/api/v1/campaigns/{_path(campaign_id)}"))

    async def update_campaign(self, campaign_id: str, body: CampaignPatch) -> Campaign:
        """Owner: change a draft"""
        return cast(
            "Campaign",
            await self._call("PATCH", f"/api/v1/campaigns/{_path(campaign_id)}", json=body),
        )

    async def publish_campaign(
        self, campaign_id: str, *, idempotency_key: str | None = None
    ) -> Campaign:
        """Owner: draft -> active"""
        return cast(
            "Campaign",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/publish",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def pause_campaign(
        self, campaign_id: str, *, idempotency_key: str | None = None
    ) -> Campaign:
        """Owner: active -> paused"""
        return cast(
            "Campaign",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/pause",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def resume_campaign(
        self, campaign_id: str, *, idempotency_key: str | None = None
    ) -> Campaign:
        """Owner: paused -> active"""
        return cast(
            "Campaign",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/resume",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def end_campaign(
        self, campaign_id: str, *, idempotency_key: str | None = None
    ) -> Campaign:
        """Owner: active or paused -> ended"""
        return cast(
            "Campaign",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/end",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def get_campaign_stats(self, campaign_id: str) -> CampaignStats:
        """Owner, staff: the numbers"""
        return cast(
            "CampaignStats",
            await self._call("GET", f"/api/v1/campaigns/{_path(campaign_id)}/stats"),
        )

    async def give_coupon(self, code: str, *, idempotency_key: str | None = None) -> NewTransfer:
        """Coupon owner: give the coupon away; it is held until accepted or cancelled"""
        return cast(
            "NewTransfer",
            await self._call(
                "POST",
                f"/api/v1/coupons/{_path(code)}/transfers",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def rotate_claim_token(
        self, transfer_id: str, *, idempotency_key: str | None = None
    ) -> NewTransfer:
        """The sender: a new claim token for a pending gift; the previous one stops working"""
        return cast(
            "NewTransfer",
            await self._call(
                "POST",
                f"/api/v1/transfers/{_path(transfer_id)}/claim-token",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def accept_transfer(
        self, transfer_id: str, body: AcceptTransferIn, *, idempotency_key: str | None = None
    ) -> Coupon:
        """Any other customer, with the claim token: the coupon becomes theirs, new code"""
        return cast(
            "Coupon",
            await self._call(
                "POST",
                f"/api/v1/transfers/{_path(transfer_id)}/accept",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def cancel_transfer(
        self, transfer_id: str, *, idempotency_key: str | None = None
    ) -> Coupon:
        """The sender: take the coupon back, active again"""
        return cast(
            "Coupon",
            await self._call(
                "POST",
                f"/api/v1/transfers/{_path(transfer_id)}/cancel",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def list_transfers(
        self,
        *,
        role: TransferRole | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> TransferPage:
        """Own transfers, newest first: ?role=sent or received (default both)"""
        return cast(
            "TransferPage",
            await self._call(
                "GET", "/api/v1/transfers", params={"role": role, "limit": limit, "cursor": cursor}
            ),
        )

    async def get_transfer(self, transfer_id: str) -> Transfer:
        """Its sender and recipient: the transfer, its coupon without the code"""
        return cast("Transfer", await self._call("GET", f"/api/v1/transfers/{_path(transfer_id)}"))

    async def list_listings(
        self,
        *,
        campaign_id: str | None = None,
        merchant_id: str | None = None,
        mine: bool | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> ListingPage:
        """Customers: open listings, newest first; ?campaign_id=, ?merchant_id=, ?mine=true"""
        return cast(
            "ListingPage",
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
    ) -> Listing:
        """Coupon owner: offer a coupon of a tradable campaign for one matching `wants`"""
        return cast(
            "Listing",
            await self._call(
                "POST",
                "/api/v1/exchange/listings",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def get_listing(self, listing_id: str) -> Listing:
        """An open listing; own ones always"""
        return cast(
            "Listing", await self._call("GET", f"/api/v1/exchange/listings/{_path(listing_id)}")
        )

    async def accept_listing(
        self, listing_id: str, body: AcceptListingIn, *, idempotency_key: str | None = None
    ) -> Swap:
        """Another customer: swap one of their coupons matching `wants`; both get new codes"""
        return cast(
            "Swap",
            await self._call(
                "POST",
                f"/api/v1/exchange/listings/{_path(listing_id)}/accept",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def cancel_listing(
        self, listing_id: str, *, idempotency_key: str | None = None
    ) -> Coupon:
        """The listing's owner: take the coupon back, active again"""
        return cast(
            "Coupon",
            await self._call(
                "POST",
                f"/api/v1/exchange/listings/{_path(listing_id)}/cancel",
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def list_campaign_allocations(
        self, campaign_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> AllocationPage:
        """Owner, staff: the campaign's shares, newest first"""
        return cast(
            "AllocationPage",
            await self._call(
                "GET",
                f"/api/v1/campaigns/{_path(campaign_id)}/allocations",
                params={"limit": limit, "cursor": cursor},
            ),
        )

    async def create_allocation(
        self, campaign_id: str, body: AllocationIn, *, idempotency_key: str | None = None
    ) -> Allocation:
        """Owner: hand a share of the campaign's quantity to a verified partner merchant"""
        return cast(
            "Allocation",
            await self._call(
                "POST",
                f"/api/v1/campaigns/{_path(campaign_id)}/allocations",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )

    async def list_allocations(
        self, *, merchant_id: str, limit: int | None = None, cursor: str | None = None
    ) -> AllocationPage:
        """A partner merchant's people: the shares it holds, ?merchant_id= (required)"""
        return cast(
            "AllocationPage",
            await self._call(
                "GET",
                "/api/v1/allocations",
                params={"merchant_id": merchant_id, "limit": limit, "cursor": cursor},
            ),
        )

    async def get_allocation(self, allocation_id: str) -> Allocation:
        """Both merchants' people: the share and what was issued from it"""
        return cast(
            "Allocation", await self._call("GET", f"/api/v1/allocations/{_path(allocation_id)}")
        )

    async def issue_from_allocation(
        self, allocation_id: str, body: IssueIn, *, idempotency_key: str | None = None
    ) -> Coupon:
        """Partner merchant's owner, staff, or partner client with coupons:write"""
        return cast(
            "Coupon",
            await self._call(
                "POST",
                f"/api/v1/allocations/{_path(allocation_id)}/issue",
                json=body,
                headers={"Idempotency-Key": idempotency_key},
            ),
        )
