"""Example requests and answers for the OpenAPI document: one coffee shop's campaign,
followed from creation to a redeemed coupon. The ids recur so the examples fit together."""

from __future__ import annotations

from typing import Any

from core.web.openapi import example as example  # what the DTOs call, as ex.example

MERCHANT_ID = "6f1c2a4e-8d3b-4c1a-9e2f-1b7d5c3a9e01"
PARTNER_ID = "2b9e7d15-4c8a-4f3e-a6d1-9c0b8e7f6a52"
OUTLET_ID = "0d4e8f2a-6b1c-4d9e-8a7f-3c5b2e1d0f93"
CAMPAIGN_ID = "c7a9e3b1-5d2f-4e8a-b6c4-1f0e9d8c7b64"
COUPON_ID = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c75"
CUSTOMER_ID = "4a3b2c1d-0e9f-4a8b-9c7d-6e5f4a3b2c86"
FRIEND_ID = "5b4c3d2e-1f0a-4b9c-8d7e-6f5a4b3c2d97"
REDEMPTION_ID = "8f7e6d5c-4b3a-4c2d-9e1f-0a9b8c7d6e18"
TRANSFER_ID = "3c2d1e0f-9a8b-4c7d-8e6f-5a4b3c2d1e29"
LISTING_ID = "7d6e5f4a-3b2c-4d1e-8f0a-9b8c7d6e5f3a"
ALLOCATION_ID = "1e0f9a8b-7c6d-4e5f-8a4b-3c2d1e0f9a4b"
CODE = "K7QM2XH9PRTW"

CAMPAIGN_IN: dict[str, Any] = {
    "merchant_id": MERCHANT_ID,
    "title": "20% off any coffee",
    "description": "Mornings only, at the Main Street shop",
    "discount_type": "percentage",
    "discount_value": 20,
    "total_quantity": 500,
    "per_customer_limit": 2,
    "starts_at": "2026-01-01T00:00:00+00:00",
    "ends_at": "2026-03-31T23:59:59+00:00",
    "validity_days": 30,
    "outlet_ids": [OUTLET_ID],
    "transferable": True,
    "tradable": True,
}
CAMPAIGN_PATCH: dict[str, Any] = {"title": "25% off any coffee", "discount_value": 25}
CAMPAIGN: dict[str, Any] = {
    "id": CAMPAIGN_ID,
    "merchant_id": MERCHANT_ID,
    "status": "active",
    "title": "20% off any coffee",
    "description": "Mornings only, at the Main Street shop",
    "discount_type": "percentage",
    "discount_value": 20,
    "currency": None,
    "min_spend": None,
    "total_quantity": 500,
    "per_customer_limit": 2,
    "starts_at": "2026-01-01T00:00:00Z",
    "ends_at": "2026-03-31T23:59:59Z",
    "validity_days": 30,
    "outlet_ids": [OUTLET_ID],
    "transferable": True,
    "tradable": True,
    "issued_count": 120,
    "redeemed_count": 45,
    "created_at": "2025-12-20T09:30:00Z",
    "updated_at": "2025-12-21T10:00:00Z",
}
CAMPAIGN_SUMMARY: dict[str, Any] = {
    key: CAMPAIGN[key]
    for key in (
        "id",
        "merchant_id",
        "title",
        "status",
        "discount_type",
        "discount_value",
        "currency",
        "min_spend",
        "ends_at",
        "outlet_ids",
        "transferable",
        "tradable",
    )
}
OUTLET_REDEMPTIONS: dict[str, Any] = {"outlet_id": OUTLET_ID, "redeemed": 45}
OWN_DISTRIBUTION: dict[str, Any] = {"merchant_id": MERCHANT_ID, "issued": 100, "redeemed": 40}
STATS: dict[str, Any] = {
    "issued": 120,
    "redeemed": 45,
    "active": 60,
    "expired": 10,
    "voided": 2,
    "reserved": 3,
    "unassigned": 0,
    "redemption_rate": 0.375,
    "by_outlet": [OUTLET_REDEMPTIONS],
    "by_distributor": [
        OWN_DISTRIBUTION,
        {"merchant_id": PARTNER_ID, "issued": 20, "redeemed": 5},
    ],
}
COUPON: dict[str, Any] = {
    "id": COUPON_ID,
    "code": CODE,
    "campaign_id": CAMPAIGN_ID,
    "merchant_id": MERCHANT_ID,
    "owner_user_id": CUSTOMER_ID,
    "status": "active",
    "issued_at": "2026-01-05T08:15:00Z",
    "expires_at": "2026-02-04T08:15:00Z",
    "redeemed_at": None,
    "campaign": CAMPAIGN_SUMMARY,
}
REDEEMED_COUPON: dict[str, Any] = COUPON | {
    "status": "redeemed",
    "redeemed_at": "2026-01-09T07:42:00Z",
}
COUPON_SUMMARY: dict[str, Any] = {
    key: COUPON[key]
    for key in ("id", "campaign_id", "merchant_id", "status", "issued_at", "expires_at", "campaign")
}
ISSUE_IN: dict[str, Any] = {"user_id": CUSTOMER_ID}
CODES_IN: dict[str, Any] = {"count": 1000}
CODES_OUT: dict[str, Any] = {"generated": 1000}
CODE_OUT: dict[str, Any] = {"code": CODE, "created_at": "2026-01-02T12:00:00Z"}
CLAIM_CODE_IN: dict[str, Any] = {"code": "k7qm-2xh9-prtw"}
VALIDATE_IN: dict[str, Any] = {"outlet_id": OUTLET_ID, "order_amount": 1250}
VALIDATION: dict[str, Any] = {"valid": True, "reason": None, "discount_amount": 250}
REDEEM_IN: dict[str, Any] = {
    "outlet_id": OUTLET_ID,
    "order_reference": "till-3/000417",
    "order_amount": 1250,
}
REDEMPTION: dict[str, Any] = {
    "redemption_id": REDEMPTION_ID,
    "coupon": REDEEMED_COUPON,
    "discount_amount": 250,
    "redeemed_at": "2026-01-09T07:42:00Z",
    "outlet_id": OUTLET_ID,
    "order_reference": "till-3/000417",
    "order_amount": 1250,
}
REASON_IN: dict[str, Any] = {"reason": "Rung up twice by mistake"}
HISTORY_EVENT: dict[str, Any] = {
    "event_id": "01JH3K8Z4Q7R2T5W9X0Y1Z2A3B",
    "type": "coupon.claimed",
    "actor": CUSTOMER_ID,
    "at": "2026-01-05T08:15:00Z",
    "data": {"campaign_id": CAMPAIGN_ID, "merchant_id": MERCHANT_ID},
}
TRANSFER: dict[str, Any] = {
    "id": TRANSFER_ID,
    "status": "pending",
    "sender_user_id": CUSTOMER_ID,
    "recipient_user_id": None,
    "created_at": "2026-01-06T18:00:00Z",
    "expires_at": "2026-01-09T18:00:00Z",
    "closed_at": None,
    "coupon": COUPON_SUMMARY | {"status": "reserved"},
}
NEW_TRANSFER: dict[str, Any] = TRANSFER | {
    "claim_token": "tV1b8Qf3kZ0xR7mN2pL5sW9cY4hJ6dG0aE3uI8oK1qM"
}
ACCEPT_TRANSFER_IN: dict[str, Any] = {"claim_token": NEW_TRANSFER["claim_token"]}
WANTS_IN: dict[str, Any] = {"merchant_id": PARTNER_ID}
WANTS: dict[str, Any] = {"campaign_id": None, "merchant_id": PARTNER_ID}
LISTING_IN: dict[str, Any] = {"coupon_code": CODE, "wants": WANTS_IN}
LISTING: dict[str, Any] = {
    "id": LISTING_ID,
    "status": "open",
    "owner_user_id": CUSTOMER_ID,
    "coupon": COUPON_SUMMARY | {"status": "reserved"},
    "wants": WANTS,
    "created_at": "2026-01-07T12:00:00Z",
    "closed_at": None,
}
ACCEPT_LISTING_IN: dict[str, Any] = {"offered_coupon_code": "W4NB8CJ3TZQX"}
SWAP: dict[str, Any] = {
    "received": COUPON | {"code": "M9DT4KQ2XWRP", "owner_user_id": FRIEND_ID},
    "given": COUPON_SUMMARY | {"id": "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d"},
    "listing": LISTING | {"status": "accepted", "closed_at": "2026-01-08T09:00:00Z"},
}
ALLOCATION_IN: dict[str, Any] = {"partner_merchant_id": PARTNER_ID, "quantity": 50}
ALLOCATION: dict[str, Any] = {
    "id": ALLOCATION_ID,
    "campaign_id": CAMPAIGN_ID,
    "merchant_id": MERCHANT_ID,
    "partner_merchant_id": PARTNER_ID,
    "quantity": 50,
    "issued": 20,
    "created_at": "2026-01-03T10:00:00Z",
}
