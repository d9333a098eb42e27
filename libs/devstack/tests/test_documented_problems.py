"""The end-of-run check that every problem answered in the tests is documented."""

from __future__ import annotations

from typing import Any

from devstack.contracts.documented_problems import undocumented

DOCUMENT: dict[str, Any] = {
    "paths": {
        "/api/v1/coupons/{code}/redeem": {
            "post": {
                "responses": {
                    "409": {
                        "content": {
                            "application/problem+json": {
                                "examples": {"already_redeemed": {}, "coupon_void": {}}
                            }
                        }
                    }
                }
            }
        }
    }
}
REDEEM = "/api/v1/coupons/{code}/redeem"


def test_documented_answers_pass() -> None:
    seen = {(REDEEM, "POST", 409, "already_redeemed"), (REDEEM, "POST", 409, "coupon_void")}
    assert undocumented(seen, [DOCUMENT]) == []


def test_an_undocumented_code_or_status_is_named() -> None:
    seen = {(REDEEM, "POST", 409, "coupon_locked"), (REDEEM, "POST", 404, "coupon_not_found")}
    assert undocumented(seen, [DOCUMENT]) == [
        f"POST {REDEEM} answered 404 coupon_not_found",
        f"POST {REDEEM} answered 409 coupon_locked",
    ]


def test_routes_outside_the_documents_and_method_not_allowed_are_left_out() -> None:
    seen = {
        ("/graphql/coupons", "POST", 422, "invalid_input"),
        (REDEEM, "POST", 405, "method_not_allowed"),
    }
    assert undocumented(seen, [DOCUMENT]) == []
