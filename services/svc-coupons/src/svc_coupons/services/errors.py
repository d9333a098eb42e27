"""svc-coupons's errors: each a status and a stable code (core.errors renders them)."""

from __future__ import annotations

from core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    PlatformError,
    TooManyRequests,
)
from svc_coupons.services.data_model.campaigns import TermsViolation
from svc_coupons.services.data_model.redemption import Refusal


class CampaignNotFound(NotFound):
    code = "campaign_not_found"
    title = "No such campaign"


class CouponNotFound(NotFound):
    code = "coupon_not_found"
    title = "No such coupon"


class CodeNotFound(NotFound):
    code = "code_not_found"
    title = "No unassigned coupon has this code"


class DiscountTooHigh(InvalidInput):
    code = "discount_too_high"
    title = "A percentage discount is at most 90"


class InvalidDiscount(InvalidInput):
    code = "invalid_discount"
    title = "The discount value is out of range"


class InvalidCurrency(InvalidInput):
    code = "invalid_currency"
    title = "A fixed amount needs an ISO 4217 currency; a percentage has none"


class InvalidPeriod(InvalidInput):
    code = "invalid_period"
    title = "A campaign starts before it ends"


class DateOutOfRange(InvalidInput):
    code = "date_out_of_range"
    title = "Campaign dates are in the years 2000 to 2100"


class UnknownOutlet(InvalidInput):
    code = "unknown_outlet"
    title = "An outlet is not one of the merchant's"


class InvalidStatusFilter(InvalidInput):
    code = "invalid_status"
    title = "Unknown status"


class MerchantNotVerified(Conflict):
    code = "merchant_not_verified"
    title = "The merchant is not verified (pending or suspended)"


class CampaignNotDraft(Conflict):
    code = "campaign_not_draft"
    title = "Only a draft campaign can be changed"


class QuantityBelowIssued(Conflict):
    code = "quantity_below_issued"
    title = "total_quantity cannot be below what was already issued (codes included)"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "The campaign's status does not allow this"


class CampaignNotActive(Conflict):
    code = "campaign_not_active"
    title = "The campaign is not running"


class SoldOut(Conflict):
    code = "sold_out"
    title = "The campaign has no coupons left"


class LimitReached(Conflict):
    code = "limit_reached"
    title = "The customer has as many coupons of this campaign as allowed"


class CodeAlreadyClaimed(Conflict):
    code = "code_already_claimed"
    title = "This code was claimed already"


class AlreadyRedeemed(Conflict):
    code = "already_redeemed"
    title = "The coupon was redeemed already"


class CouponExpired(Conflict):
    code = "coupon_expired"
    title = "The coupon has expired"


class CouponVoid(Conflict):
    code = "coupon_void"
    title = "The coupon was voided"


class CouponLocked(Conflict):
    code = "coupon_locked"
    title = "The coupon is held by a transfer or an exchange listing"


class CouponNotClaimed(Conflict):
    code = "coupon_not_claimed"
    title = "The code has not been claimed by a customer yet"


class OutletNotAllowed(Conflict):
    code = "outlet_not_allowed"
    title = "The coupon cannot be redeemed at this outlet"


class MinSpendNotMet(Conflict):
    code = "min_spend_not_met"
    title = "The order does not reach the campaign's minimum spend"


class NotRedeemed(Conflict):
    code = "not_redeemed"
    title = "The coupon is not redeemed"


class ReversalWindowPassed(Conflict):
    code = "reversal_window_passed"
    title = "A redemption can be reversed within 24 hours only"


class TransferNotFound(NotFound):
    code = "transfer_not_found"
    title = "No such transfer"


class ListingNotFound(NotFound):
    code = "listing_not_found"
    title = "No such listing"


class AllocationNotFound(NotFound):
    code = "allocation_not_found"
    title = "No such allocation"


class NotTransferable(Conflict):
    code = "not_transferable"
    title = "Coupons of this campaign cannot be given away"


class NotTradable(Conflict):
    code = "not_tradable"
    title = "Coupons of this campaign cannot be swapped"


class InvalidClaimToken(Forbidden):
    code = "invalid_claim_token"
    title = "The claim token does not match this transfer"


class OwnTransfer(Conflict):
    code = "own_transfer"
    title = "A sender cannot accept their own gift"


class TransferExpired(Conflict):
    code = "transfer_expired"
    title = "The transfer was not accepted in time; the coupon went back to its sender"


class TransferClosed(Conflict):
    code = "transfer_closed"
    title = "The transfer was accepted or cancelled already"


class ListingClosed(Conflict):
    code = "listing_closed"
    title = "The listing was accepted, cancelled, or its coupon is no longer available"


class OwnListing(Conflict):
    code = "own_listing"
    title = "A listing's owner cannot accept it"


class OfferMismatch(Conflict):
    code = "offer_mismatch"
    title = "The offered coupon is not what the listing wants"


class AllocationExhausted(Conflict):
    code = "allocation_exhausted"
    title = "The allocation's quantity is used up"


class InvalidWants(InvalidInput):
    code = "invalid_wants"
    title = "What the listing wants names no campaign that could match"


class InvalidPartner(InvalidInput):
    code = "invalid_partner"
    title = "A campaign is allocated to another merchant, not its own"


class CampaignBusy(TooManyRequests):
    """A claim past the bound on one campaign's claims waiting at once (ClaimsInFlight)."""

    code = "campaign_busy"
    title = "Too many claims on this campaign at this moment; retry shortly"


class MerchantsUnavailable(PlatformError):
    status = 503
    code = "merchants_unavailable"
    title = "The merchant directory did not answer; try again"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}


class AuditUnavailable(PlatformError):
    status = 503
    code = "audit_unavailable"
    title = "The audit trail could not be read; try again"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "5"}


TERMS_ERRORS: dict[TermsViolation, type[InvalidInput]] = {
    TermsViolation.DISCOUNT_TOO_HIGH: DiscountTooHigh,
    TermsViolation.INVALID_DISCOUNT: InvalidDiscount,
    TermsViolation.INVALID_CURRENCY: InvalidCurrency,
    TermsViolation.INVALID_PERIOD: InvalidPeriod,
    TermsViolation.DATE_OUT_OF_RANGE: DateOutOfRange,
}

REFUSAL_ERRORS: dict[Refusal, type[Conflict]] = {
    Refusal.ALREADY_REDEEMED: AlreadyRedeemed,
    Refusal.COUPON_EXPIRED: CouponExpired,
    Refusal.COUPON_VOID: CouponVoid,
    Refusal.COUPON_LOCKED: CouponLocked,
    Refusal.COUPON_NOT_CLAIMED: CouponNotClaimed,
    Refusal.CAMPAIGN_NOT_ACTIVE: CampaignNotActive,
    Refusal.MERCHANT_NOT_VERIFIED: MerchantNotVerified,
    Refusal.OUTLET_NOT_ALLOWED: OutletNotAllowed,
    Refusal.MIN_SPEND_NOT_MET: MinSpendNotMet,
}
