"""svc-merchants's errors: each a core.errors problem with a stable code."""

from __future__ import annotations

from core.errors import Conflict, InvalidInput, NotFound


class MerchantNotFound(NotFound):
    code = "merchant_not_found"
    title = "No such merchant"


class OutletNotFound(NotFound):
    code = "outlet_not_found"
    title = "No such outlet of this merchant"


class InvalidTransition(Conflict):
    code = "invalid_transition"
    title = "The merchant's status does not allow this"


class MerchantNotVerified(Conflict):
    code = "merchant_not_verified"
    title = "The merchant is not verified"


class OutletLimitReached(Conflict):
    code = "outlet_limit_reached"
    title = "The merchant has as many outlets as it may have"


class InvalidCountry(InvalidInput):
    code = "invalid_country"
    title = "country must be an ISO 3166-1 alpha-2 code"


class InvalidCurrency(InvalidInput):
    code = "invalid_currency"
    title = "currency must be an ISO 4217 code of three letters"


class InvalidTimezone(InvalidInput):
    code = "invalid_timezone"
    title = "timezone must be an IANA time zone name"


class InvalidCoordinates(InvalidInput):
    code = "invalid_coordinates"
    title = "latitude (-90 to 90) and longitude (-180 to 180) are given together or not at all"


class InvalidText(InvalidInput):
    code = "invalid_text"
    title = "A text field is empty or too long"
