"""The merchant state machine and the value checks, as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from svc_merchants.services.data_model.changes import KEEP
from svc_merchants.services.data_model.merchants import (
    TRANSITIONS,
    Merchant,
    MerchantAction,
    MerchantChanges,
    MerchantStatus,
    check_timezone,
    next_status,
    normalise_country,
    normalise_currency,
)
from svc_merchants.services.data_model.outlets import Outlet, OutletChanges, check_coordinates
from svc_merchants.services.errors import (
    InvalidCoordinates,
    InvalidCountry,
    InvalidCurrency,
    InvalidTimezone,
    InvalidTransition,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def application(category: str | None = None) -> Merchant:
    return Merchant.apply(
        owner_user_id=uuid4(),
        name=" Tea House ",
        country="jp",
        currency="jpy",
        timezone="Asia/Tokyo",
        category=category,
        at=NOW,
    )


def test_an_application_is_pending_and_normalised() -> None:
    merchant = application(category="  tea ")
    assert merchant.status is MerchantStatus.PENDING
    assert (merchant.name, merchant.country, merchant.currency) == ("Tea House", "JP", "JPY")
    assert merchant.category == "tea"
    assert merchant.created_at == merchant.updated_at == NOW
    assert merchant.verified_at is None


@pytest.mark.parametrize(
    ("status", "action", "target"),
    [
        (MerchantStatus.PENDING, MerchantAction.VERIFY, MerchantStatus.VERIFIED),
        (MerchantStatus.VERIFIED, MerchantAction.SUSPEND, MerchantStatus.SUSPENDED),
        (MerchantStatus.SUSPENDED, MerchantAction.REINSTATE, MerchantStatus.VERIFIED),
    ],
)
def test_the_allowed_transitions(
    status: MerchantStatus, action: MerchantAction, target: MerchantStatus
) -> None:
    assert next_status(status, action) is target


def test_every_other_transition_is_refused() -> None:
    refused = [
        (status, action)
        for status in MerchantStatus
        for action in MerchantAction
        if (status, action) not in TRANSITIONS
    ]
    assert len(refused) == 6
    for status, action in refused:
        with pytest.raises(InvalidTransition) as caught:
            next_status(status, action)
        assert caught.value.code == "invalid_transition"
        assert caught.value.status == 409


def test_verify_suspend_reinstate_record_when_and_why() -> None:
    verified = application().verify(at=LATER)
    assert (verified.status, verified.verified_at, verified.updated_at) == (
        MerchantStatus.VERIFIED,
        LATER,
        LATER,
    )
    suspended = verified.suspend(reason="  fraud ", at=LATER)
    assert (suspended.status, suspended.suspension_reason, suspended.suspended_at) == (
        MerchantStatus.SUSPENDED,
        "fraud",
        LATER,
    )
    reinstated = suspended.reinstate(at=LATER)
    assert reinstated.status is MerchantStatus.VERIFIED
    assert (reinstated.suspension_reason, reinstated.suspended_at) == (None, None)
    assert reinstated.verified_at == LATER
    with pytest.raises(InvalidTransition):
        application().suspend(reason="spam", at=LATER)


def test_changes_report_only_what_changed() -> None:
    merchant = application(category="tea")
    after, changed = merchant.changed(
        MerchantChanges(name="Tea House", currency="usd", category=None), at=LATER
    )
    assert changed == {"currency": "USD", "category": None}
    assert (after.currency, after.category, after.updated_at) == ("USD", None, LATER)
    same, nothing = merchant.changed(MerchantChanges(country="JP"), at=LATER)
    assert nothing == {}
    assert same is merchant
    kept, _ = merchant.changed(MerchantChanges(category=KEEP), at=LATER)
    assert kept.category == "tea"


@pytest.mark.parametrize("code", ["US", "de", " gb ", "AQ"])
def test_iso_country_codes_pass(code: str) -> None:
    assert normalise_country(code) == code.strip().upper()


@pytest.mark.parametrize("code", ["", "U", "USA", "ZZ", "EU", "U1"])
def test_other_country_codes_fail(code: str) -> None:
    with pytest.raises(InvalidCountry):
        normalise_country(code)


@pytest.mark.parametrize(("code", "expected"), [("EUR", "EUR"), ("usd", "USD"), (" jpy", "JPY")])
def test_currency_codes_are_three_letters(code: str, expected: str) -> None:
    assert normalise_currency(code) == expected


@pytest.mark.parametrize("code", ["", "EU", "EURO", "E1R", "€UR"])
def test_other_currency_codes_fail(code: str) -> None:
    with pytest.raises(InvalidCurrency):
        normalise_currency(code)


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires"])
def test_iana_time_zones_pass(name: str) -> None:
    assert check_timezone(name) == name


@pytest.mark.parametrize("name", ["", "Europe/Gotham", "europe/berlin", "/etc/localtime", "+02:00"])
def test_other_time_zones_fail(name: str) -> None:
    with pytest.raises(InvalidTimezone):
        check_timezone(name)


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(None, None), (0.0, 0.0), (-90.0, 180.0), (90.0, -180.0), (52.5, 13.4)],
)
def test_positions_in_range_pass(latitude: float | None, longitude: float | None) -> None:
    check_coordinates(latitude, longitude)


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (None, 1.0),
        (1.0, None),
        (90.01, 0.0),
        (-90.01, 0.0),
        (0.0, 180.5),
        (0.0, -180.5),
        (float("nan"), 0.0),
        (0.0, float("inf")),
    ],
)
def test_other_positions_fail(latitude: float | None, longitude: float | None) -> None:
    with pytest.raises(InvalidCoordinates):
        check_coordinates(latitude, longitude)


def test_outlet_changes_keep_the_position_whole() -> None:
    outlet = Outlet.open(
        merchant_id=uuid4(), name=" Kiosk ", address=" Pier 1 ", latitude=1.0, longitude=2.0, at=NOW
    )
    assert (outlet.name, outlet.address) == ("Kiosk", "Pier 1")
    moved, changed = outlet.changed(OutletChanges(latitude=3.0), at=LATER)
    assert changed == {"latitude": 3.0}
    assert (moved.latitude, moved.longitude, moved.updated_at) == (3.0, 2.0, LATER)
    cleared, changed = outlet.changed(OutletChanges(latitude=None, longitude=None), at=LATER)
    assert changed == {"latitude": None, "longitude": None}
    assert (cleared.latitude, cleared.longitude) == (None, None)
    with pytest.raises(InvalidCoordinates):
        outlet.changed(OutletChanges(longitude=None), at=LATER)
