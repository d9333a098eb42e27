"""Codes for offline distribution: bulk generation, listing, CSV export, claiming a code."""

from __future__ import annotations

import csv
import io
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_coupons.services import issuing
from svc_coupons.utils.codes import ALPHABET, CODE_LENGTH, new_codes

if TYPE_CHECKING:
    from conftest import Shop, World


async def generate(world: World, shop: Shop, campaign: dict[str, Any], count: int) -> Any:
    return await world.http.post(
        f"/api/v1/campaigns/{campaign['id']}/codes", json={"count": count}, headers=shop.owner
    )


async def count_codes(connection: AsyncConnection, campaign: dict[str, Any]) -> int:
    return int(
        (
            await connection.execute(
                text(
                    "SELECT count(*) FROM coupons.coupons "
                    "WHERE campaign_id = :id AND status = 'unassigned'"
                ),
                {"id": campaign["id"]},
            )
        ).scalar_one()
    )


async def test_generate_counts_against_the_total(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=10)
    response = await generate(world, shop, campaign, 7)
    assert response.status_code == 201, response.text
    assert response.json() == {"generated": 7}
    assert await count_codes(connection, campaign) == 7
    refreshed = (await world.http.get(f"/api/v1/campaigns/{campaign['id']}")).json()
    assert refreshed["issued_count"] == 7
    # All or nothing: 4 more do not fit in the 3 left.
    too_many = await generate(world, shop, campaign, 4)
    assert too_many.status_code == 409
    assert too_many.json()["code"] == "sold_out"
    assert await count_codes(connection, campaign) == 7
    assert (await generate(world, shop, campaign, 3)).status_code == 201
    _, customer = world.customer()
    claim = await world.http.post(f"/api/v1/campaigns/{campaign['id']}/claim", headers=customer)
    assert claim.json()["code"] == "sold_out"


async def test_one_event_per_batch(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    await generate(world, shop, campaign, 50)
    events = (
        await connection.execute(
            text(
                "SELECT type, data FROM coupons.outbox "
                "WHERE type = 'codes.generated' AND entity_id = :id"
            ),
            {"id": campaign["id"]},
        )
    ).all()
    assert [(e.type, e.data) for e in events] == [("codes.generated", {"count": 50})]


async def test_codes_may_be_printed_before_launch_but_not_after_the_end(world: World) -> None:
    shop = world.shop()
    draft = await world.campaign(shop, publish=False)
    assert (await generate(world, shop, draft, 5)).status_code == 201
    ended = await world.campaign(shop)
    await world.http.post(f"/api/v1/campaigns/{ended['id']}/end", headers=shop.owner)
    response = await generate(world, shop, ended, 5)
    assert response.status_code == 409
    assert response.json()["code"] == "campaign_not_active"


@pytest.mark.parametrize("count", [0, 100_001, -1])
async def test_count_is_1_to_100000(world: World, count: int) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    response = await generate(world, shop, campaign, count)
    assert response.status_code == 422


async def test_codes_are_the_owners(world: World) -> None:
    shop, other = world.shop(), world.shop()
    campaign = await world.campaign(shop)
    draft = await world.campaign(shop, publish=False)
    _, customer = world.customer()
    for headers in (shop.staff, customer, other.owner):
        for method in ("post", "get"):
            response = await world.http.request(
                method,
                f"/api/v1/campaigns/{campaign['id']}/codes",
                json={"count": 1} if method == "post" else None,
                headers=headers,
            )
            assert response.status_code == 403, (method, response.text)
    hidden = await world.http.get(f"/api/v1/campaigns/{draft['id']}/codes", headers=other.owner)
    assert hidden.status_code == 404


async def test_list_codes_pages_in_code_order(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    await generate(world, shop, campaign, 25)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 10}
        if cursor:
            params["cursor"] = cursor
        response = await world.http.get(
            f"/api/v1/campaigns/{campaign['id']}/codes", params=params, headers=shop.owner
        )
        assert response.status_code == 200
        page = response.json()
        assert all(set(item) == {"code", "created_at"} for item in page["items"])
        seen += [item["code"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 25
    assert seen == sorted(seen)
    assert all(len(code) == CODE_LENGTH and set(code) <= set(ALPHABET) for code in seen)


async def test_csv_export(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    await generate(world, shop, campaign, 30)
    _, customer = world.customer()
    listed = await world.http.get(
        f"/api/v1/campaigns/{campaign['id']}/codes", params={"limit": 1}, headers=shop.owner
    )
    claimed_code = listed.json()["items"][0]["code"]
    await world.http.post("/api/v1/coupons/claim", json={"code": claimed_code}, headers=customer)
    response = await world.http.get(
        f"/api/v1/campaigns/{campaign['id']}/codes",
        headers={**shop.owner, "Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["code"]
    codes = [row[0] for row in rows[1:]]
    assert len(codes) == 29
    assert claimed_code not in codes
    refused = await world.http.get(
        f"/api/v1/campaigns/{campaign['id']}/codes",
        headers={**shop.staff, "Accept": "text/csv"},
    )
    assert refused.status_code == 403


async def test_hundred_thousand_codes_in_one_request(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, total_quantity=100_000)
    started = time.perf_counter()
    response = await generate(world, shop, campaign, 100_000)
    took = time.perf_counter() - started
    assert response.status_code == 201, response.text
    assert took < 15, f"100k codes took {took:.1f}s"
    assert await count_codes(connection, campaign) == 100_000
    lines = 0
    async with world.http.stream(
        "GET",
        f"/api/v1/campaigns/{campaign['id']}/codes",
        headers={**shop.owner, "Accept": "text/csv"},
    ) as exported:
        async for line in exported.aiter_lines():
            lines += 1 if line else 0
    assert lines == 100_001  # header and every code


async def test_a_colliding_batch_is_drawn_again(
    world: World, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    await generate(world, shop, campaign, 3)
    taken = (
        await connection.execute(
            text("SELECT code FROM coupons.coupons WHERE campaign_id = :id LIMIT 1"),
            {"id": campaign["id"]},
        )
    ).scalar_one()
    batches: list[list[str]] = []

    def colliding_first(count: int) -> list[str]:
        batch = new_codes(count)
        if not batches:
            batch[-1] = taken
        batches.append(batch)
        return batch

    monkeypatch.setattr(issuing, "new_codes", colliding_first)
    response = await generate(world, shop, campaign, 5)
    assert response.status_code == 201, response.text
    assert len(batches) == 2
    assert await count_codes(connection, campaign) == 8
    stored = set(
        (
            await connection.execute(
                text("SELECT code FROM coupons.coupons WHERE campaign_id = :id"),
                {"id": campaign["id"]},
            )
        ).scalars()
    )
    assert set(batches[1]) <= stored
    assert not (set(batches[0]) - {taken}) & stored


async def test_claim_a_code_as_typed(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, validity_days=5)
    await generate(world, shop, campaign, 2)
    listed = await world.http.get(f"/api/v1/campaigns/{campaign['id']}/codes", headers=shop.owner)
    code = listed.json()["items"][0]["code"]
    typed = f" {code[:4].lower()}-{code[4:8]} {code[8:].lower()} "
    user_id, customer = world.customer()
    response = await world.http.post(
        "/api/v1/coupons/claim", json={"code": typed}, headers=customer
    )
    assert response.status_code == 201, response.text
    coupon = response.json()
    assert (coupon["code"], coupon["status"]) == (code, "active")
    assert coupon["owner_user_id"] == str(user_id)
    assert coupon["issued_at"] is not None
    assert coupon["expires_at"] is not None
    # Codes were counted when generated; claiming one takes nothing more.
    refreshed = (await world.http.get(f"/api/v1/campaigns/{campaign['id']}")).json()
    assert refreshed["issued_count"] == 2
    again = await world.http.post("/api/v1/coupons/claim", json={"code": code}, headers=customer)
    assert again.status_code == 409
    assert again.json()["code"] == "code_already_claimed"
    _, someone = world.customer()
    stolen = await world.http.post("/api/v1/coupons/claim", json={"code": code}, headers=someone)
    assert stolen.json()["code"] == "code_already_claimed"


@pytest.mark.parametrize("code", ["ABCDEFGHJKMN", "short", "O0O0O0O0O0O0", "-"])
async def test_unknown_code_is_404(world: World, code: str) -> None:
    _, customer = world.customer()
    response = await world.http.post("/api/v1/coupons/claim", json={"code": code}, headers=customer)
    assert response.status_code == 404
    assert response.json()["code"] == "code_not_found"


async def test_claiming_codes_respects_the_customer_limit(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop, per_customer_limit=1)
    await generate(world, shop, campaign, 2)
    listed = await world.http.get(f"/api/v1/campaigns/{campaign['id']}/codes", headers=shop.owner)
    first, second = (item["code"] for item in listed.json()["items"])
    _, customer = world.customer()
    assert (
        await world.http.post("/api/v1/coupons/claim", json={"code": first}, headers=customer)
    ).status_code == 201
    response = await world.http.post(
        "/api/v1/coupons/claim", json={"code": second}, headers=customer
    )
    assert response.status_code == 409
    assert response.json()["code"] == "limit_reached"


async def test_codes_of_a_campaign_not_running_cannot_be_claimed(world: World) -> None:
    shop = world.shop()
    draft = await world.campaign(shop, publish=False)
    await generate(world, shop, draft, 1)
    code = (
        await world.http.get(f"/api/v1/campaigns/{draft['id']}/codes", headers=shop.owner)
    ).json()["items"][0]["code"]
    _, customer = world.customer()
    response = await world.http.post("/api/v1/coupons/claim", json={"code": code}, headers=customer)
    assert response.status_code == 409
    assert response.json()["code"] == "campaign_not_active"
    partner = await world.http.post(
        "/api/v1/coupons/claim", json={"code": code}, headers=shop.partner
    )
    assert partner.status_code == 403
    anonymous = await world.http.post("/api/v1/coupons/claim", json={"code": str(uuid4())})
    assert anonymous.status_code == 401


async def first_code(world: World, shop: Shop, campaign: dict[str, Any]) -> str:
    listed = await world.http.get(f"/api/v1/campaigns/{campaign['id']}/codes", headers=shop.owner)
    code: str = listed.json()["items"][0]["code"]
    return code


def stale_campaign_reads(monkeypatch: pytest.MonkeyPatch, **as_it_was: Any) -> None:
    """Every unlocked campaign read answers as the campaign was a moment ago: what a request
    sees when the campaign changes between its check and its write."""
    import dataclasses

    from svc_coupons.repositories.campaigns import CampaignRepository
    from svc_coupons.services.data_model.campaigns import CampaignStatus

    real_get = CampaignRepository.get

    async def stale_get(self: CampaignRepository, campaign_id: Any) -> Any:
        campaign = await real_get(self, campaign_id)
        if campaign is None:
            return None
        terms = dataclasses.replace(campaign.terms, **as_it_was)
        return dataclasses.replace(campaign, status=CampaignStatus.ACTIVE, terms=terms)

    monkeypatch.setattr(CampaignRepository, "get", stale_get)


async def unassigned(connection: AsyncConnection, code: str) -> bool:
    status = (
        await connection.execute(
            text("SELECT status FROM coupons.coupons WHERE code = :code"), {"code": code}
        )
    ).scalar_one()
    return bool(status == "unassigned")


async def test_claiming_a_code_is_gated_on_the_campaign_in_sql(
    world: World, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    await generate(world, shop, campaign, 1)
    code = await first_code(world, shop, campaign)
    ended = await world.http.post(f"/api/v1/campaigns/{campaign['id']}/end", headers=shop.owner)
    assert ended.status_code == 200
    stale_campaign_reads(monkeypatch)
    _, customer = world.customer()
    response = await world.http.post("/api/v1/coupons/claim", json={"code": code}, headers=customer)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "campaign_not_active"
    assert await unassigned(connection, code)


async def test_claiming_a_code_after_the_campaigns_end_date_is_refused_in_sql(
    world: World, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    await generate(world, shop, campaign, 1)
    code = await first_code(world, shop, campaign)
    await connection.execute(
        text(
            "UPDATE coupons.campaigns SET starts_at = now() - interval '2 days', "
            "ends_at = now() - interval '1 day' WHERE id = :id"
        ),
        {"id": campaign["id"]},
    )
    from core.clock import utcnow

    stale_campaign_reads(monkeypatch, ends_at=utcnow() + timedelta(days=1))
    _, customer = world.customer()
    response = await world.http.post("/api/v1/coupons/claim", json={"code": code}, headers=customer)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "campaign_not_active"
    assert await unassigned(connection, code)


async def test_claiming_a_voided_code_is_coupon_void(world: World) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    await generate(world, shop, campaign, 1)
    code = await first_code(world, shop, campaign)
    voided = await world.http.post(
        f"/api/v1/coupons/{code}/void", json={"reason": "misprint"}, headers=shop.owner
    )
    assert voided.status_code == 200, voided.text
    _, customer = world.customer()
    response = await world.http.post("/api/v1/coupons/claim", json={"code": code}, headers=customer)
    assert response.status_code == 409
    assert response.json()["code"] == "coupon_void"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "json"),
        ("*/*", "json"),
        ("application/json", "json"),
        ("application/*", "json"),
        ("text/csv", "csv"),
        ("text/*", "csv"),
        ("TEXT/CSV; charset=utf-8", "csv"),
        ("text/csv;q=0, application/json", "json"),
        ("text/csv; q=0.0, */*", "json"),
        ("application/json;q=0.5, text/csv", "csv"),
        ("application/json;q=0.5, text/csv;q=0.9", "csv"),
        ("text/csv;q=0.5, application/json", "json"),
        ("text/csv, */*;q=0.1", "csv"),
        ("text/html, text/csv;q=0.8, */*;q=0.1", "csv"),
        ("application/json, text/csv", "json"),
        ("*/*, text/csv;q=0", "json"),
        ("application/xml", 406),
        ("text/csv;q=0", 406),
        ("text/csv;q=0, application/json;q=0", 406),
        ("*/*;q=0", 406),
        ("image/png, text/html", 406),
    ],
)
async def test_codes_negotiate_json_or_csv(
    world: World, accept: str | None, expected: str | int
) -> None:
    shop = world.shop()
    campaign = await world.campaign(shop)
    await generate(world, shop, campaign, 2)
    headers = dict(shop.owner)
    if accept is not None:
        headers["Accept"] = accept
    response = await world.http.get(f"/api/v1/campaigns/{campaign['id']}/codes", headers=headers)
    if expected == 406:
        assert response.status_code == 406, response.text
        assert response.json()["code"] == "not_acceptable"
        return
    assert response.status_code == 200, response.text
    kind = response.headers["content-type"].split(";")[0]
    assert kind == {"json": "application/json", "csv": "text/csv"}[str(expected)]
