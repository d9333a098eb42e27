"""Example requests and answers for the OpenAPI document: one coffee shop, applied for,
verified, with its first outlet. The ids recur so the examples fit together."""

from __future__ import annotations

from typing import Any

from core.web.openapi import example as example  # what the DTOs call, as ex.example

MERCHANT_ID = "6f1c2a4e-8d3b-4c1a-9e2f-1b7d5c3a9e01"
OWNER_ID = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b"
OUTLET_ID = "0d4e8f2a-6b1c-4d9e-8a7f-3c5b2e1d0f93"

MERCHANT_IN: dict[str, Any] = {
    "name": "Bean There Coffee",
    "country": "DE",
    "currency": "EUR",
    "timezone": "Europe/Berlin",
    "category": "cafe",
}
MERCHANT_PATCH: dict[str, Any] = {"name": "Bean There Coffee & Bakery", "category": "bakery"}
SUSPEND_IN: dict[str, Any] = {"reason": "Chargebacks under review"}
MERCHANT: dict[str, Any] = {
    "id": MERCHANT_ID,
    "name": "Bean There Coffee",
    "status": "verified",
    "owner_user_id": OWNER_ID,
    "country": "DE",
    "currency": "EUR",
    "timezone": "Europe/Berlin",
    "category": "cafe",
    "created_at": "2025-12-01T09:00:00Z",
    "updated_at": "2025-12-02T14:30:00Z",
    "verified_at": "2025-12-02T14:30:00Z",
    "suspended_at": None,
    "suspension_reason": None,
}
OUTLET_IN: dict[str, Any] = {
    "name": "Main Street",
    "address": "Hauptstraße 12, 10115 Berlin",
    "latitude": 52.5321,
    "longitude": 13.3849,
}
OUTLET_PATCH: dict[str, Any] = {"name": "Main Street (corner shop)"}
OUTLET: dict[str, Any] = {
    "id": OUTLET_ID,
    "merchant_id": MERCHANT_ID,
    "name": "Main Street",
    "address": "Hauptstraße 12, 10115 Berlin",
    "latitude": 52.5321,
    "longitude": 13.3849,
    "created_at": "2025-12-03T08:00:00Z",
    "updated_at": "2025-12-03T08:00:00Z",
}
