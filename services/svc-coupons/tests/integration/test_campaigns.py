"""Campaigns over REST: creation rules, visibility, lists, draft changes, the lifecycle."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import utcnow
from core.events import DomainEvent
from core.pagination import encode_cursor

if TYPE_CHECKING:
    from conftest import World

CAMPAIGN_FIELDS = {
    "id",
    "merchant_id",
    "status",
    "title",
    "description",
    "discount_type",
    "discount_value",
    "currency",
    "min_spend",
    "total_quantity",
    "per_customer_limit",
    "starts_at",
    "ends_at",
    "validity_days",
    "outlet_ids",
    "transferable",
    "tradable",
    "issued_count",
    "redeemed_count",
    "created_at",
    "updated_at",
}


async def test_owner_creates_a_draft_with_every_field(world: World) -> None:
    shop = world.shop()
    body = world.campaign_body(
        shop,
        title="  Five euro off  ",
        description="For regulars",
        discount_type="fixed_amount",
        discount_value=500,
        currency="eur",
        min_spend=2000,
        total_quantity=100,
        per_customer_limit=2,
        validity_days=7,
        outlet_ids=[str(shop.outlet_id)],
        transferable=False,
        tradable=False,
    )
    response = await world.http.post("/api/v1/campaigns", json=body, headers=shop.owner)
    assert response.status_code == 201, response.text
    campaign = response.json()
    assert set(campaign) == CAMPAIGN_FIELDS
    assert campaign["status"] == "draft"
    assert campaign["title"] == "Five euro off"
    assert campaign["currency"] == "EUR"
    assert (campaign["issued_count"], campaign["redeemed_count"]) == (0, 0)
    assert campaign["outlet_ids"] == [str(shop.outlet_id)]
    assert (campaign["transferable"], campaign["tradable"]) == (False, False)
    assert campaign["per_customer_limit"] == 2


async def test_defaults(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, publish=False)
    assert campaign["per_customer_limit"] == 1
    assert campaign["total_quantity"] is None
    assert campaign["outlet_ids"] == []
    assert (campaign["transferable"], campaign["tradable"]) == (True, True)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"discount_value": 91}, "discount_too_high"),
        ({"discount_value": 0}, "invalid_discount"),
        ({"currency": "EUR"}, "invalid_currency"),
        ({"discount_type": "fixed_amount", "discount_value": 500}, "invalid_currency"),
        (
            {"discount_type": "fixed_amount", "discount_value": 0, "currency": "EUR"},
            "invalid_discount",
        ),
        (
            {"discount_type": "fixed_amount", "discount_value": 5, "currency": "E1R"},
            "invalid_currency",
        ),
        ({"title": "ab"}, "invalid_input"),
        ({"discount_type": "bogo"}, "invalid_input"),
        ({"per_customer_limit": 0}, "invalid_input"),
        ({"starts_at": "2030-01-01T00:00:00"}, "invalid_input"),  # no offset
    ],
)
async def test_invalid_terms_are_422(world: World, overrides: dict[str, Any], code: str) -> None:
    shop = world.shop()
    response = await world.http.post(
        "/api/v1/campaigns", json=world.campaign_body(shop, **overrides), headers=shop.owner
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


async def test_period_must_start_before_it_ends(world: World) -> None:
    shop = world.shop()
    now = utcnow()
    body = world.campaign_body(
        shop, starts_at=now.isoformat(), ends_at=(now - timedelta(days=1)).isoformat()
    )
    response = await world.http.post("/api/v1/campaigns", json=body, headers=shop.owner)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_period"


async def test_outlets_must_be_the_merchants(world: World) -> None:
    shop, other = world.shop(), world.shop()
    body = world.campaign_body(shop, outlet_ids=[str(shop.outlet_id), str(other.outlet_id)])
    response = await world.http.post("/api/v1/campaigns", json=body, headers=shop.owner)
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_outlet"


async def test_outlets_are_read_across_pages(world: World) -> None:
    shop = world.shop()
    outlets = [world.merchants.add_outlet(shop.merchant_id) for _ in range(120)]
    body = world.campaign_body(shop, outlet_ids=[str(outlets[-1])])
    response = await world.http.post("/api/v1/campaigns", json=body, headers=shop.owner)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("status", ["pending", "suspended"])
async def test_unverified_merchant_is_409(world: World, status: str) -> None:
    shop = world.shop(status=status)
    response = await world.http.post(
        "/api/v1/campaigns", json=world.campaign_body(shop), headers=shop.owner
    )
    assert response.status_code == 409
    assert response.json()["code"] == "merchant_not_verified"


async def test_applicant_of_a_pending_merchant_is_told_it_is_not_verified(world: World) -> None:
    # No owner membership yet (it comes with verification): svc-merchants names them owner.
    shop = world.shop(status="pending")
    applicant = world.headers(subject=shop.owner_id)
    response = await world.http.post(
        "/api/v1/campaigns", json=world.campaign_body(shop), headers=applicant
    )
    assert response.status_code == 409
    assert response.json()["code"] == "merchant_not_verified"


async def test_only_the_owner_creates(world: World) -> None:
    shop, other = world.shop(), world.shop()
    _, customer = world.customer()
    body = world.campaign_body(shop)
    for headers in (shop.staff, shop.partner, customer, other.owner, world.admin()):
        response = await world.http.post("/api/v1/campaigns", json=body, headers=headers)
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"
    assert (await world.http.post("/api/v1/campaigns", json=body)).status_code == 401


async def test_owner_of_an_unknown_merchant_is_409(world: World) -> None:
    shop = world.shop()
    world.merchants.hidden.add(shop.merchant_id)
    response = await world.http.post(
        "/api/v1/campaigns", json=world.campaign_body(shop), headers=shop.owner
    )
    assert response.status_code == 409
    assert response.json()["code"] == "merchant_not_verified"


async def test_visibility_of_one_campaign(world: World) -> None:
    shop, other = world.shop(), world.shop()
    draft = await world.campaign(shop, publish=False)
    active = await world.campaign(shop)
    _, customer = world.customer()
    path = "/api/v1/campaigns/{}"
    assert (await world.http.get(path.format(active["id"]))).status_code == 200
    assert (await world.http.get(path.format(active["id"]), headers=customer)).status_code == 200
    for headers in ({}, customer, other.owner):
        response = await world.http.get(path.format(draft["id"]), headers=headers)
        assert response.status_code == 404
        assert response.json()["code"] == "campaign_not_found"
    for headers in (shop.owner, shop.staff, shop.partner, world.admin()):
        response = await world.http.get(path.format(draft["id"]), headers=headers)
        assert response.status_code == 200
        assert response.json()["status"] == "draft"
    assert (await world.http.get(path.format(uuid4()))).status_code == 404


async def test_list_shows_active_campaigns_to_anyone(world: World) -> None:
    shop, other = world.shop(), world.shop()
    mine = [await world.campaign(shop) for _ in range(3)]
    await world.campaign(shop, publish=False)
    theirs = await world.campaign(other)
    response = await world.http.get(
        "/api/v1/campaigns", params={"merchant_id": str(shop.merchant_id)}
    )
    assert response.status_code == 200
    page = response.json()
    assert [c["id"] for c in page["items"]] == [c["id"] for c in reversed(mine)]
    assert page["next_cursor"] is None
    everything = await world.http.get("/api/v1/campaigns", params={"limit": 100})
    ids = {c["id"] for c in everything.json()["items"]}
    assert theirs["id"] in ids
    assert all(c["status"] == "active" for c in everything.json()["items"])


async def test_list_pages_with_a_cursor(world: World) -> None:
    shop = world.shop()
    created = [await world.campaign(shop) for _ in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"merchant_id": str(shop.merchant_id), "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await world.http.get("/api/v1/campaigns", params=params)).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [c["id"] for c in reversed(created)]
    for cursor in ("not-a-cursor", encode_cursor("yesterday", "someone")):
        bad = await world.http.get("/api/v1/campaigns", params={"cursor": cursor})
        assert bad.status_code == 422
        assert bad.json()["code"] == "invalid_cursor"


async def test_members_list_other_statuses(world: World) -> None:
    shop, other = world.shop(), world.shop()
    draft = await world.campaign(shop, publish=False)
    params = {"merchant_id": str(shop.merchant_id), "status": "draft"}
    for headers in (shop.owner, shop.staff, world.admin()):
        response = await world.http.get("/api/v1/campaigns", params=params, headers=headers)
        assert response.status_code == 200
        assert [c["id"] for c in response.json()["items"]] == [draft["id"]]
    _, customer = world.customer()
    for headers in ({}, customer, other.owner):
        response = await world.http.get("/api/v1/campaigns", params=params, headers=headers)
        assert response.status_code == 403
    bad = await world.http.get(
        "/api/v1/campaigns", params={**params, "status": "sleeping"}, headers=shop.owner
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_input"


async def test_patch_a_draft(world: World) -> None:
    shop = world.shop()
    draft = await world.campaign(shop, publish=False)
    path = f"/api/v1/campaigns/{draft['id']}"
    response = await world.http.patch(
        path,
        json={"title": "Twenty off", "discount_value": 20, "description": None},
        headers=shop.owner,
    )
    assert response.status_code == 200, response.text
    assert (response.json()["title"], response.json()["discount_value"]) == ("Twenty off", 20)
    # The merged terms obey the same rules as new ones.
    switched = await world.http.patch(
        path, json={"discount_type": "fixed_amount"}, headers=shop.owner
    )
    assert switched.status_code == 422
    assert switched.json()["code"] == "invalid_currency"
    fixed = await world.http.patch(
        path,
        json={"discount_type": "fixed_amount", "discount_value": 300, "currency": "EUR"},
        headers=shop.owner,
    )
    assert fixed.status_code == 200
    too_high = await world.http.patch(
        path,
        json={"discount_type": "percentage", "discount_value": 95, "currency": None},
        headers=shop.owner,
    )
    assert too_high.json()["code"] == "discount_too_high"
    nulled = await world.http.patch(path, json={"title": None}, headers=shop.owner)
    assert nulled.status_code == 422
    unknown = await world.http.patch(path, json={"status": "active"}, headers=shop.owner)
    assert unknown.status_code == 422
    outlets = await world.http.patch(path, json={"outlet_ids": [str(uuid4())]}, headers=shop.owner)
    assert outlets.json()["code"] == "unknown_outlet"


async def test_patch_who_and_when(world: World) -> None:
    shop, other = world.shop(), world.shop()
    draft = await world.campaign(shop, publish=False)
    active = await world.campaign(shop)
    patch = {"title": "Changed"}
    staff = await world.http.patch(
        f"/api/v1/campaigns/{draft['id']}", json=patch, headers=shop.staff
    )
    assert staff.status_code == 403
    stranger = await world.http.patch(
        f"/api/v1/campaigns/{draft['id']}", json=patch, headers=other.owner
    )
    assert stranger.status_code == 404
    not_draft = await world.http.patch(
        f"/api/v1/campaigns/{active['id']}", json=patch, headers=shop.owner
    )
    assert not_draft.status_code == 409
    assert not_draft.json()["code"] == "campaign_not_draft"


async def test_lifecycle(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, publish=False)
    base = f"/api/v1/campaigns/{campaign['id']}"

    async def act(action: str) -> Any:
        return await world.http.post(f"{base}/{action}", headers=shop.owner)

    for action, expected in [
        ("publish", "active"),
        ("pause", "paused"),
        ("resume", "active"),
        ("pause", "paused"),
        ("end", "ended"),
    ]:
        response = await act(action)
        assert response.status_code == 200, (action, response.text)
        assert response.json()["status"] == expected
    for action in ("publish", "pause", "resume", "end"):
        response = await act(action)
        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"
    types = (
        (
            await connection.execute(
                text(
                    "SELECT type FROM coupons.outbox WHERE entity_type = 'campaign' "
                    "AND entity_id = :id ORDER BY occurred_at"
                ),
                {"id": campaign["id"]},
            )
        )
        .scalars()
        .all()
    )
    assert types == [
        "campaign.created",
        "campaign.published",
        "campaign.paused",
        "campaign.resumed",
        "campaign.paused",
        "campaign.ended",
    ]


@pytest.mark.parametrize(
    ("path", "from_status"),
    [("pause", "draft"), ("resume", "draft"), ("end", "draft"), ("resume", "active")],
)
async def test_bad_transitions(world: World, path: str, from_status: str) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, publish=from_status == "active")
    response = await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/{path}", headers=shop.owner
    )
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"


async def test_active_campaign_ends_directly(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    response = await world.http.post(f"/api/v1/campaigns/{campaign['id']}/end", headers=shop.owner)
    assert response.json()["status"] == "ended"


async def test_lifecycle_is_the_owners(world: World) -> None:
    shop, other = world.shop(), world.shop()
    draft = await world.campaign(shop, publish=False)
    active = await world.campaign(shop)
    staff = await world.http.post(f"/api/v1/campaigns/{draft['id']}/publish", headers=shop.staff)
    assert staff.status_code == 403
    stranger_draft = await world.http.post(
        f"/api/v1/campaigns/{draft['id']}/publish", headers=other.owner
    )
    assert stranger_draft.status_code == 404
    # An active campaign is public: a stranger knows it exists, and may not pause it.
    stranger_active = await world.http.post(
        f"/api/v1/campaigns/{active['id']}/pause", headers=other.owner
    )
    assert stranger_active.status_code == 403
    anonymous = await world.http.post(f"/api/v1/campaigns/{active['id']}/pause")
    assert anonymous.status_code == 401


async def test_publish_needs_a_verified_merchant(world: World, coupons_app: FastAPI) -> None:
    shop = world.shop()
    draft = await world.campaign(shop, publish=False)
    world.merchants.set_status(shop.merchant_id, "suspended")
    # svc-merchants tells of the suspension; the verified answer the creation cached goes.
    await coupons_app.state.consumers["merchant.suspended"](
        DomainEvent(
            type="merchant.suspended",
            entity_type="merchant",
            entity_id=str(shop.merchant_id),
            actor="admin",
            data={"reason": "test"},
            source="merchants",
        )
    )
    response = await world.http.post(f"/api/v1/campaigns/{draft['id']}/publish", headers=shop.owner)
    assert response.status_code == 409
    assert response.json()["code"] == "merchant_not_verified"


async def test_patch_below_what_was_issued_is_409(world: World) -> None:
    shop = world.shop()
    draft = await world.campaign(shop, publish=False, total_quantity=10)
    path = f"/api/v1/campaigns/{draft['id']}"
    codes = await world.http.post(f"{path}/codes", json={"count": 6}, headers=shop.owner)
    assert codes.status_code == 201, codes.text
    below = await world.http.patch(path, json={"total_quantity": 5}, headers=shop.owner)
    assert below.status_code == 409, below.text
    assert below.json()["code"] == "quantity_below_issued"
    assert "6" in below.json()["detail"]
    exactly = await world.http.patch(path, json={"total_quantity": 6}, headers=shop.owner)
    assert exactly.status_code == 200, exactly.text
    assert (exactly.json()["total_quantity"], exactly.json()["issued_count"]) == (6, 6)
    unlimited = await world.http.patch(path, json={"total_quantity": None}, headers=shop.owner)
    assert unlimited.status_code == 200
    assert unlimited.json()["total_quantity"] is None


async def test_saving_terms_is_conditional_on_the_row(
    world: World, connection: AsyncConnection
) -> None:
    """The UPDATE itself refuses a quantity below issued_count, or a campaign no longer a
    draft, whatever the caller checked before: no IntegrityError, no lost write."""
    import dataclasses
    from uuid import UUID

    from sqlalchemy.ext.asyncio import AsyncSession

    from svc_coupons.repositories.campaigns import CampaignRepository

    shop = world.shop()
    draft = await world.campaign(shop, publish=False, total_quantity=10)
    codes = await world.http.post(
        f"/api/v1/campaigns/{draft['id']}/codes", json={"count": 6}, headers=shop.owner
    )
    assert codes.status_code == 201
    session = AsyncSession(bind=connection, join_transaction_mode="create_savepoint")
    campaigns = CampaignRepository(session)
    campaign = await campaigns.get(UUID(draft["id"]))
    assert campaign is not None
    below = dataclasses.replace(campaign.terms, total_quantity=5)
    assert await campaigns.save_terms(campaign_id=campaign.id, terms=below, now=utcnow()) is None
    fits = dataclasses.replace(campaign.terms, total_quantity=6)
    saved = await campaigns.save_terms(campaign_id=campaign.id, terms=fits, now=utcnow())
    assert saved is not None
    assert saved.terms.total_quantity == 6
    await connection.execute(
        text("UPDATE coupons.campaigns SET status = 'active' WHERE id = :id"), {"id": draft["id"]}
    )
    assert await campaigns.save_terms(campaign_id=campaign.id, terms=fits, now=utcnow()) is None
    await session.close()


async def test_svc_merchants_naming_the_user_owner_is_not_enough_once_verified(
    world: World,
) -> None:
    """The token's owner membership decides; owner_user_id only lets a pending applicant
    hear 409 merchant_not_verified instead of 403."""
    shop = world.shop()
    named_owner = world.headers(subject=shop.owner_id)  # no membership in the token
    response = await world.http.post(
        "/api/v1/campaigns", json=world.campaign_body(shop), headers=named_owner
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"
    # With the membership the same person creates.
    response = await world.http.post(
        "/api/v1/campaigns", json=world.campaign_body(shop), headers=shop.owner
    )
    assert response.status_code == 201
    # A suspended merchant's named owner without membership: not the owner either, and
    # nothing about the merchant's state is disclosed to a caller who is not its owner.
    suspended = world.shop(status="suspended")
    response = await world.http.post(
        "/api/v1/campaigns",
        json=world.campaign_body(suspended),
        headers=world.headers(subject=suspended.owner_id),
    )
    assert response.status_code == 403
