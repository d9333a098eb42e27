"""Input PostgreSQL (or Python's datetime) cannot take is refused up front with 422 and a
specific answer, never a 500 and never the database's safety net: dates far outside any
campaign's life, NUL characters and lone surrogates in text, crafted cursors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import httpx
import pytest

from core.pagination import encode_cursor

if TYPE_CHECKING:
    from conftest import World

EARLIEST_ISO = "0001-01-01T00:00:00+14:00"
LATEST_ISO = "9999-12-31T23:59:59-14:00"
CREATE = "mutation ($input: CampaignInput!) { createCampaign(input: $input) { id } }"


def assert_refused_as(response: httpx.Response, code: str, where: str | None = None) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == code, body
    if where is not None:
        assert body["detail"].startswith(where), body


# C3: the edges of datetime's range overflowed converting to UTC (500).


@pytest.mark.parametrize(
    "overrides",
    [
        {"starts_at": EARLIEST_ISO},
        {"ends_at": LATEST_ISO},
        {"starts_at": EARLIEST_ISO, "ends_at": LATEST_ISO},
        {"starts_at": "1999-12-31T23:59:59+00:00"},
        {"ends_at": "2101-01-01T00:00:00+00:00"},
    ],
)
async def test_dates_outside_the_accepted_years_are_422(
    world: World, overrides: dict[str, str]
) -> None:
    shop = world.shop()
    response = await world.http.post(
        "/api/v1/campaigns", json=world.campaign_body(shop, **overrides), headers=shop.owner
    )
    assert_refused_as(response, "date_out_of_range")


async def test_dates_at_the_edges_of_the_accepted_years_are_fine(world: World) -> None:
    shop = world.shop()
    body = world.campaign_body(
        shop, starts_at="2000-01-01T00:00:00+00:00", ends_at="2100-12-31T23:59:59+00:00"
    )
    response = await world.http.post("/api/v1/campaigns", json=body, headers=shop.owner)
    assert response.status_code == 201, response.text


async def test_a_patch_with_a_date_at_the_edge_of_time_is_422(world: World) -> None:
    shop = world.shop()
    draft = await world.campaign(shop, publish=False)
    for patch in ({"starts_at": EARLIEST_ISO}, {"ends_at": LATEST_ISO}):
        response = await world.http.patch(
            f"/api/v1/campaigns/{draft['id']}", json=patch, headers=shop.owner
        )
        assert_refused_as(response, "date_out_of_range")


async def test_graphql_refuses_the_edge_of_time_too(world: World) -> None:
    shop = world.shop()
    body = world.campaign_body(shop, starts_at=EARLIEST_ISO)
    response = await world.http.post(
        "/graphql/coupons",
        json={
            "query": CREATE,
            "variables": {
                "input": {
                    "merchantId": body["merchant_id"],
                    "title": body["title"],
                    "discountType": body["discount_type"],
                    "discountValue": body["discount_value"],
                    "startsAt": body["starts_at"],
                    "endsAt": body["ends_at"],
                }
            },
        },
        headers=shop.owner,
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "date_out_of_range"


# C4: NUL characters and lone surrogates reached PostgreSQL (asyncpg cannot even encode a
# lone surrogate). The service refuses them by field, with its own error type.

BAD_TEXT = ["a\x00b", "bad \ud800 surrogate", "low \udfff too"]


def _raw_json(payload: dict[str, Any]) -> bytes:
    """JSON as a hostile client sends it: lone surrogates as \\u escapes, which Python's
    json module turns back into lone surrogates on the way in."""
    import json

    return json.dumps(payload, ensure_ascii=True).encode()


async def post_raw(world: World, path: str, payload: dict[str, Any], headers: Any) -> Any:
    return await world.http.post(
        path,
        content=_raw_json(payload),
        headers={**headers, "Content-Type": "application/json"},
    )


def assert_bad_text(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_input"
    first = body["errors"][0]
    assert first["type"] == "invalid_text", body
    assert first["loc"][-1] == field, body


@pytest.mark.parametrize("bad", BAD_TEXT)
async def test_campaign_text_refuses_nul_and_lone_surrogates(world: World, bad: str) -> None:
    shop = world.shop()
    for field in ("title", "description"):
        body = world.campaign_body(shop, **{field: f"Title {bad}"})
        response = await post_raw(world, "/api/v1/campaigns", body, shop.owner)
        assert_bad_text(response, field)
    draft = await world.campaign(shop, publish=False)
    response = await world.http.patch(
        f"/api/v1/campaigns/{draft['id']}",
        content=_raw_json({"description": bad}),
        headers={**shop.owner, "Content-Type": "application/json"},
    )
    assert_bad_text(response, "description")
    response = await world.http.patch(
        f"/api/v1/campaigns/{draft['id']}",
        content=_raw_json({"currency": "E\x00R"}),
        headers={**shop.owner, "Content-Type": "application/json"},
    )
    assert_bad_text(response, "currency")


@pytest.mark.parametrize("bad", BAD_TEXT)
async def test_coupon_text_refuses_nul_and_lone_surrogates(world: World, bad: str) -> None:
    shop = world.shop()
    coupon, customer = await world.coupon(shop)
    code = coupon["code"]
    redeem = await post_raw(
        world,
        f"/api/v1/coupons/{code}/redeem",
        {"outlet_id": str(shop.outlet_id), "order_reference": f"R-{bad}"},
        shop.staff,
    )
    assert_bad_text(redeem, "order_reference")
    void = await post_raw(world, f"/api/v1/coupons/{code}/void", {"reason": bad}, shop.owner)
    assert_bad_text(void, "reason")
    assert (await world.redeem(shop, code)).status_code == 200
    reverse = await post_raw(
        world, f"/api/v1/coupons/{code}/reverse-redemption", {"reason": bad}, shop.owner
    )
    assert_bad_text(reverse, "reason")
    claim = await post_raw(world, "/api/v1/coupons/claim", {"code": f"AB{bad}"}, customer)
    assert_bad_text(claim, "code")


async def test_graphql_inputs_refuse_nul(world: World) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop)
    response = await world.http.post(
        "/graphql/coupons",
        json={
            "query": """mutation ($code: String!, $outlet: UUID!, $ref: String) {
              redeemCoupon(code: $code, outletId: $outlet, orderReference: $ref) { redemptionId }
            }""",
            "variables": {"code": coupon["code"], "outlet": str(shop.outlet_id), "ref": "a\x00"},
        },
        headers=shop.staff,
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "invalid_input"
    assert error["message"].startswith("order_reference")
    body = world.campaign_body(shop)
    response = await world.http.post(
        "/graphql/coupons",
        json={
            "query": CREATE,
            "variables": {
                "input": {
                    "merchantId": body["merchant_id"],
                    "title": "Nul \x00 title",
                    "discountType": body["discount_type"],
                    "discountValue": body["discount_value"],
                    "startsAt": body["starts_at"],
                    "endsAt": body["ends_at"],
                }
            },
        },
        headers=shop.owner,
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "invalid_input"
    assert error["message"].startswith("title")


# C5: crafted cursors.


@pytest.mark.parametrize(
    "cursor",
    [
        encode_cursor("not-a-code"),
        encode_cursor("ABC\x00"),
        encode_cursor("abcdefghjkmn"),  # lower case: never a cursor this list gave out
        encode_cursor("A" * 200),
    ],
)
async def test_code_list_cursor_must_be_a_code(world: World, cursor: str) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    response = await world.http.get(
        f"/api/v1/campaigns/{campaign['id']}/codes",
        params={"cursor": cursor},
        headers=shop.owner,
    )
    assert_refused_as(response, "invalid_cursor")


@pytest.mark.parametrize(
    "moment",
    [
        EARLIEST_ISO,  # overflows on the way to UTC
        LATEST_ISO,
        datetime(2026, 1, 1).isoformat(),  # naive: no offset, no position
        "2026-13-01T00:00:00+00:00",
        "yesterday",
    ],
)
async def test_newest_first_cursors_are_checked(world: World, moment: str) -> None:
    _, customer = world.customer()
    cursor = encode_cursor(moment, uuid4())
    wallet = await world.http.get("/api/v1/wallet", params={"cursor": cursor}, headers=customer)
    assert_refused_as(wallet, "invalid_cursor")
    campaigns = await world.http.get("/api/v1/campaigns", params={"cursor": cursor})
    assert_refused_as(campaigns, "invalid_cursor")


async def test_a_good_newest_first_cursor_still_pages(world: World) -> None:
    cursor = encode_cursor(datetime(2026, 1, 1, tzinfo=UTC).isoformat(), uuid4())
    response = await world.http.get("/api/v1/campaigns", params={"cursor": cursor})
    assert response.status_code == 200, response.text


# The exchange's inputs: malformed ids, text PostgreSQL cannot store, unknown fields,
# out-of-range quantities are 422 before anything is read or written.


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/transfers/not-a-uuid/accept", {"claim_token": "x"}),
        ("/api/v1/transfers/{uuid}/accept", {"claim_token": "a\x00b"}),
        ("/api/v1/transfers/{uuid}/accept", {"claim_token": ""}),
        ("/api/v1/transfers/{uuid}/accept", {"claim_token": "x", "extra": 1}),
        ("/api/v1/exchange/listings", {"coupon_code": "\ud800"}),
        ("/api/v1/exchange/listings", {"coupon_code": "A" * 65}),
        ("/api/v1/exchange/listings", {"coupon_code": "ABC", "wants": {"campaign_id": "x"}}),
        ("/api/v1/exchange/listings/{uuid}/accept", {"offered_coupon_code": "a\x00"}),
        ("/api/v1/exchange/listings/not-a-uuid/cancel", None),
        ("/api/v1/campaigns/{uuid}/allocations", {"partner_merchant_id": "x", "quantity": 1}),
        ("/api/v1/campaigns/{uuid}/allocations", {"partner_merchant_id": "{uuid}", "quantity": 0}),
        (
            "/api/v1/campaigns/{uuid}/allocations",
            {"partner_merchant_id": "{uuid}", "quantity": 2**63},
        ),
        ("/api/v1/allocations/{uuid}/issue", {"user_id": "nobody"}),
    ],
)
async def test_exchange_input_is_checked_before_anything_runs(
    world: World, path: str, body: dict[str, Any] | None
) -> None:
    _, customer = world.customer()
    some_id = str(uuid4())
    filled = (
        None
        if body is None
        else {k: v.replace("{uuid}", some_id) if isinstance(v, str) else v for k, v in body.items()}
    )
    response = await world.http.post(
        path.replace("{uuid}", some_id),
        content=None if filled is None else json.dumps(filled),
        headers=customer | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_input"
