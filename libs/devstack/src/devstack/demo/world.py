"""The demo world `make demo` builds: who, which merchants and outlets, which campaigns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEMO_PASSWORD = "demo password 1"


@dataclass(frozen=True)
class DemoCampaign:
    key: str
    title: str
    terms: dict[str, Any]
    # Seconds until it ends; None: three months. A short one leaves expired coupons.
    ends_in_seconds: float | None = None


@dataclass(frozen=True)
class DemoMerchant:
    key: str
    name: str
    owner: str
    profile: dict[str, str]
    outlets: tuple[dict[str, Any], ...]
    campaigns: tuple[DemoCampaign, ...]
    staff: tuple[str, ...] = field(default=())


MERCHANTS = (
    DemoMerchant(
        key="coffee",
        name="Bean There Coffee",
        owner="owner@beanthere.example",
        staff=("barista@beanthere.example",),
        profile={
            "country": "DE",
            "currency": "EUR",
            "timezone": "Europe/Berlin",
            "category": "cafe",
        },
        outlets=(
            {
                "name": "Main Street",
                "address": "Hauptstraße 12, 10115 Berlin",
                "latitude": 52.5321,
                "longitude": 13.3849,
            },
            {"name": "Station kiosk", "address": "Europaplatz 1, 10557 Berlin"},
        ),
        campaigns=(
            DemoCampaign(
                "coffee20",
                "20% off any coffee",
                {
                    "discount_type": "percentage",
                    "discount_value": 20,
                    "total_quantity": 500,
                    "per_customer_limit": 3,
                    "validity_days": 30,
                },
            ),
            DemoCampaign(
                "beans",
                "EUR 3 off a bag of beans",
                {
                    "discount_type": "fixed_amount",
                    "discount_value": 300,
                    "currency": "EUR",
                    "min_spend": 1500,
                    "total_quantity": 200,
                    "per_customer_limit": 2,
                    "transferable": False,
                },
            ),
            DemoCampaign(
                "flash",
                "Breakfast flash: 50% off pastries",
                {"discount_type": "percentage", "discount_value": 50, "total_quantity": 50},
                ends_in_seconds=4,
            ),
        ),
    ),
    DemoMerchant(
        key="books",
        name="Tulip Books",
        owner="owner@tulipbooks.example",
        profile={
            "country": "NL",
            "currency": "EUR",
            "timezone": "Europe/Amsterdam",
            "category": "books",
        },
        outlets=({"name": "Canal shop", "address": "Prinsengracht 263, 1016 GV Amsterdam"},),
        campaigns=(
            DemoCampaign(
                "paperbacks",
                "15% off paperbacks",
                {"discount_type": "percentage", "discount_value": 15, "per_customer_limit": 2},
            ),
        ),
    ),
    DemoMerchant(
        key="cinema",
        name="Harbour Cinema",
        owner="owner@harbourcinema.example",
        profile={
            "country": "GB",
            "currency": "GBP",
            "timezone": "Europe/London",
            "category": "entertainment",
        },
        outlets=({"name": "Screen 1 box office", "address": "1 Quay Street, Bristol BS1 4DJ"},),
        campaigns=(
            DemoCampaign(
                "tickets",
                "GBP 2 off any ticket",
                {
                    "discount_type": "fixed_amount",
                    "discount_value": 200,
                    "currency": "GBP",
                    "total_quantity": 1000,
                },
            ),
        ),
    ),
)

CUSTOMERS = (
    "alice@customers.example",
    "bob@customers.example",
    "carol@customers.example",
    "dave@customers.example",
)
PARTNER_CLIENT = {"name": "Bean There till system", "scopes": ["coupons:read", "coupons:redeem"]}
