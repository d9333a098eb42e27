"""What svc-coupons counts for the business (core.metrics.business): the Event dimension of
the BusinessEvents metric, one count per committed event or refusal."""

from __future__ import annotations

from core.events import DomainEvent
from core.metrics.business import BusinessCounters

COUNTED_EVENTS = {
    "coupon.claimed": "Claim",
    "coupon.redeemed": "Redemption",
    "coupon.redemption_reversed": "Reversal",
    "transfer.accepted": "Transfer",  # a gift taken by its recipient
    "listing.accepted": "Swap",
}

COUNTED_REFUSALS = {
    "sold_out": "SoldOutRefusal",
    "allocation_exhausted": "AllocationExhaustedRefusal",
}


def counted_as(event: DomainEvent) -> str | None:
    # A coupon issued from a partner's allocation, apart from the merchant's own issues.
    if event.type == "coupon.issued" and "allocation_id" in event.data:
        return "AllocationIssue"
    return COUNTED_EVENTS.get(event.type)


COUNTERS = BusinessCounters(events=counted_as, refusals=COUNTED_REFUSALS)
