"""Claims by customers and issue by staff: the limits, the states, idempotent replays."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import utcnow
from svc_coupons.utils.codes import ALPHABET, CODE_LENGTH

if TYPE_CHECKING:
    from conftest import World


def claim_path(campaign: dict[str, Any]) -> str:
    return f"/api/v1/campaigns/{campaign['id']}/claim"


async def test_claim_gives_an_active_coupon(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    user_id, customer = world.customer()
    response = await world.http.post(claim_path(campaign), headers=customer)
    assert response.status_code == 201, response.text
    coupon = response.json()
    assert {
        "id",
        "code",
        "campaign_id",
        "owner_user_id",
        "status",
        "issued_at",
        "expires_at",
    } <= set(coupon)
    assert coupon["status"] == "active"
    assert coupon["owner_user_id"] == str(user_id)
    assert coupon["campaign_id"] == campaign["id"]
    assert len(coupon["code"]) == CODE_LENGTH
    assert set(coupon["code"]) <= set(ALPHABET)
    # Without validity_days a coupon lasts as long as its campaign.
    assert datetime.fromisoformat(coupon["expires_at"]) == datetime.fromisoformat(
        campaign["ends_at"]
    )
    assert coupon["campaign"]["title"] == campaign["title"]
    issued = (
        await connection.execute(
            text("SELECT sum(taken) FROM coupons.campaign_units WHERE campaign_id = :id"),
            {"id": campaign["id"]},
        )
    ).scalar_one()
    assert issued == 1
    event = (
        await connection.execute(
            text("SELECT type, entity_type, actor FROM coupons.outbox WHERE entity_id = :id"),
            {"id": coupon["id"]},
        )
    ).one()
    assert tuple(event) == ("coupon.claimed", "coupon", str(user_id))


async def test_expiry_is_the_earlier_of_validity_and_campaign_end(world: World) -> None:
    shop = world.shop()
    short = await world.campaign(shop, validity_days=3)
    _, customer = world.customer()
    coupon = await world.claim(short, customer)
    issued = datetime.fromisoformat(coupon["issued_at"])
    assert datetime.fromisoformat(coupon["expires_at"]) == issued + timedelta(days=3)
    ending = await world.campaign(
        shop, validity_days=30, ends_at=(utcnow() + timedelta(days=2)).isoformat()
    )
    coupon = await world.claim(ending, customer)
    assert datetime.fromisoformat(coupon["expires_at"]) == datetime.fromisoformat(ending["ends_at"])


async def test_sold_out(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=2, per_customer_limit=5)
    _, customer = world.customer()
    await world.claim(campaign, customer)
    await world.claim(campaign, customer)
    response = await world.http.post(claim_path(campaign), headers=customer)
    assert response.status_code == 409
    assert response.json()["code"] == "sold_out"


async def test_per_customer_limit(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=2)
    _, first = world.customer()
    _, second = world.customer()
    await world.claim(campaign, first)
    await world.claim(campaign, first)
    response = await world.http.post(claim_path(campaign), headers=first)
    assert response.status_code == 409
    assert response.json()["code"] == "limit_reached"
    await world.claim(campaign, second)


async def test_refused_claim_changes_nothing(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=1)
    _, customer = world.customer()
    await world.claim(campaign, customer)
    await world.http.post(claim_path(campaign), headers=customer)
    counts = (
        await connection.execute(
            text(
                "SELECT (SELECT sum(taken) FROM coupons.campaign_units WHERE campaign_id = :id), "
                "(SELECT count(*) FROM coupons.coupons WHERE campaign_id = :id)"
            ),
            {"id": campaign["id"]},
        )
    ).one()
    assert tuple(counts) == (1, 1)


async def test_claim_needs_an_active_running_campaign(world: World) -> None:
    shop = world.shop()
    _, customer = world.customer()
    paused = await world.campaign(shop)
    await world.http.post(f"/api/v1/campaigns/{paused['id']}/pause", headers=shop.owner)
    ended = await world.campaign(shop)
    await world.http.post(f"/api/v1/campaigns/{ended['id']}/end", headers=shop.owner)
    later = await world.campaign(shop, starts_at=(utcnow() + timedelta(days=1)).isoformat())
    for campaign in (paused, ended, later):
        response = await world.http.post(claim_path(campaign), headers=customer)
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "campaign_not_active"
    draft = await world.campaign(shop, publish=False)
    response = await world.http.post(claim_path(draft), headers=customer)
    assert response.status_code == 404
    missing = await world.http.post(f"/api/v1/campaigns/{uuid4()}/claim", headers=customer)
    assert missing.status_code == 404


async def test_suspended_merchant_gives_no_coupons(world: World, aws: Any) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    world.merchants.set_status(shop.merchant_id, "suspended")
    aws.delete_item(
        TableName="test-cache", Key={"pk": {"S": f"coupons#merchant#{shop.merchant_id}"}}
    )
    _, customer = world.customer()
    response = await world.http.post(claim_path(campaign), headers=customer)
    assert response.status_code == 409
    assert response.json()["code"] == "merchant_not_verified"


async def test_claim_needs_a_user(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    assert (await world.http.post(claim_path(campaign))).status_code == 401
    response = await world.http.post(claim_path(campaign), headers=shop.partner)
    assert response.status_code == 403


async def test_owner_and_staff_issue_to_a_customer(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=1)
    user_id = uuid4()
    path = f"/api/v1/campaigns/{campaign['id']}/issue"
    response = await world.http.post(path, json={"user_id": str(user_id)}, headers=shop.staff)
    assert response.status_code == 201, response.text
    assert response.json()["owner_user_id"] == str(user_id)
    again = await world.http.post(path, json={"user_id": str(user_id)}, headers=shop.owner)
    assert again.status_code == 409
    assert again.json()["code"] == "limit_reached"
    other_user = await world.http.post(path, json={"user_id": str(uuid4())}, headers=shop.owner)
    assert other_user.status_code == 201


async def test_issue_is_for_the_merchants_people(world: World) -> None:
    shop, other = world.shop(), world.shop()
    campaign = await world.campaign(shop)
    draft = await world.campaign(shop, publish=False)
    _, customer = world.customer()
    body = {"user_id": str(uuid4())}
    for headers in (customer, other.owner, shop.partner):
        response = await world.http.post(
            f"/api/v1/campaigns/{campaign['id']}/issue", json=body, headers=headers
        )
        assert response.status_code == 403
    response = await world.http.post(
        f"/api/v1/campaigns/{draft['id']}/issue", json=body, headers=other.owner
    )
    assert response.status_code == 404
    response = await world.http.post(
        f"/api/v1/campaigns/{draft['id']}/issue", json=body, headers=shop.owner
    )
    assert response.status_code == 409
    assert response.json()["code"] == "campaign_not_active"


async def test_issue_respects_the_total(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=1)
    path = f"/api/v1/campaigns/{campaign['id']}/issue"
    first = await world.http.post(path, json={"user_id": str(uuid4())}, headers=shop.staff)
    assert first.status_code == 201
    second = await world.http.post(path, json={"user_id": str(uuid4())}, headers=shop.staff)
    assert second.json()["code"] == "sold_out"


async def test_claim_replays_with_the_same_idempotency_key(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=5)
    _, customer = world.customer()
    headers = {**customer, "Idempotency-Key": "claim-1"}
    first = await world.http.post(claim_path(campaign), headers=headers)
    second = await world.http.post(claim_path(campaign), headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    issued = (
        await connection.execute(
            text("SELECT count(*) FROM coupons.coupons WHERE campaign_id = :id"),
            {"id": campaign["id"]},
        )
    ).scalar_one()
    assert issued == 1
    other_key = await world.http.post(
        claim_path(campaign), headers={**customer, "Idempotency-Key": "claim-2"}
    )
    assert other_key.status_code == 201
    assert other_key.json()["id"] != first.json()["id"]


async def test_a_failed_claim_releases_its_idempotency_key(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, publish=False)
    _, customer = world.customer()
    headers = {**customer, "Idempotency-Key": "early"}
    draft = await world.http.post(claim_path(campaign), headers=headers)
    assert draft.status_code == 404
    await world.http.post(f"/api/v1/campaigns/{campaign['id']}/publish", headers=shop.owner)
    retried = await world.http.post(claim_path(campaign), headers=headers)
    assert retried.status_code == 201


@pytest.mark.parametrize("limit", [1, 3])
async def test_limit_counts_across_claim_and_issue(world: World, limit: int) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=limit)
    user_id, customer = world.customer()
    for _ in range(limit - 1):
        await world.claim(campaign, customer)
    issued = await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/issue",
        json={"user_id": str(user_id)},
        headers=shop.staff,
    )
    assert issued.status_code == 201
    response = await world.http.post(claim_path(campaign), headers=customer)
    assert response.json()["code"] == "limit_reached"


async def test_a_claim_whose_code_is_taken_draws_another_and_counts_once(
    world: World, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    from svc_coupons.services import issuing

    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=5)
    _, first = world.customer()
    taken = (await world.claim(campaign, first))["code"]
    fresh = "".join(reversed(taken))
    draws = iter([taken, fresh])
    monkeypatch.setattr(issuing, "new_code", lambda: next(draws))
    user_id, second = world.customer()
    coupon = await world.claim(campaign, second)
    assert coupon["code"] == fresh
    counts = (
        await connection.execute(
            text(
                "SELECT (SELECT sum(taken) FROM coupons.campaign_units WHERE campaign_id = :id),"
                " (SELECT claimed FROM coupons.customer_claims"
                " WHERE campaign_id = :id AND user_id = :user) FROM coupons.campaigns"
                " WHERE id = :id"
            ),
            {"id": campaign["id"], "user": user_id},
        )
    ).one()
    assert tuple(counts) == (2, 1)
    # The event written before the decision names the coupon that was inserted after it.
    event_entity = (
        await connection.execute(
            text(
                "SELECT entity_id FROM coupons.outbox WHERE type = 'coupon.claimed'"
                " AND data->>'owner_user_id' = :user"
            ),
            {"user": str(user_id)},
        )
    ).scalar_one()
    assert event_entity == coupon["id"]
