"""Gift transfers over HTTP: give, accept under a new code, cancel, lapse, and every refusal
changing nothing."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.clock import utcnow

if TYPE_CHECKING:
    from conftest import Headers, World


async def give(world: World, code: str, headers: Headers, **extra: Any) -> Any:
    return await world.http.post(f"/api/v1/coupons/{code}/transfers", headers=headers, **extra)


async def accept(world: World, transfer_id: str, token: str, headers: Headers) -> Any:
    return await world.http.post(
        f"/api/v1/transfers/{transfer_id}/accept", json={"claim_token": token}, headers=headers
    )


async def wallet_ids(world: World, headers: Headers) -> dict[str, str]:
    response = await world.http.get("/api/v1/wallet", headers=headers)
    assert response.status_code == 200, response.text
    return {c["id"]: c["status"] for c in response.json()["items"]}


async def outbox_types(connection: AsyncConnection, coupon_id: str) -> list[str]:
    rows = await connection.execute(
        text("SELECT type FROM coupons.outbox WHERE entity_id = :id ORDER BY occurred_at"),
        {"id": coupon_id},
    )
    return [r.type for r in rows]


async def test_a_gift_is_taken_under_a_new_code_and_the_old_one_is_gone(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    coupon, sender = await world.coupon(shop)
    response = await give(world, coupon["code"], sender)
    assert response.status_code == 201, response.text
    gift = response.json()
    assert {"id", "claim_token", "expires_at"} <= set(gift)
    assert gift["status"] == "pending"
    assert gift["coupon"]["status"] == "reserved"
    assert "code" not in gift["coupon"]
    assert response.headers["cache-control"] == "no-store"
    lifetime = datetime.fromisoformat(gift["expires_at"]) - utcnow()
    assert timedelta(hours=71) < lifetime <= timedelta(hours=72)
    # Only the token's hash is stored.
    stored = (
        await connection.execute(
            text("SELECT claim_token_hash FROM coupons.transfers WHERE id = :id"),
            {"id": gift["id"]},
        )
    ).scalar_one()
    assert stored == hashlib.sha256(gift["claim_token"].encode()).hexdigest()
    assert await wallet_ids(world, sender) == {coupon["id"]: "reserved"}
    # Held: it cannot be redeemed meanwhile.
    refused = await world.redeem(shop, coupon["code"])
    assert (refused.status_code, refused.json()["code"]) == (409, "coupon_locked")

    recipient_id, recipient = world.customer()
    response = await accept(world, gift["id"], gift["claim_token"], recipient)
    assert response.status_code == 200, response.text
    taken = response.json()
    assert taken["id"] == coupon["id"]
    assert taken["owner_user_id"] == str(recipient_id)
    assert taken["status"] == "active"
    assert taken["code"] != coupon["code"]
    assert await wallet_ids(world, sender) == {}
    assert await wallet_ids(world, recipient) == {coupon["id"]: "active"}
    for headers in (sender, recipient, shop.owner):
        lookup = await world.http.get(f"/api/v1/coupons/{coupon['code']}", headers=headers)
        assert lookup.status_code == 404
    assert (await world.http.get(f"/api/v1/coupons/{taken['code']}", headers=recipient)).json()[
        "owner_user_id"
    ] == str(recipient_id)
    # The recipient redeems it under its new code.
    redeemed = await world.redeem(shop, taken["code"], order_amount=1000)
    assert redeemed.status_code == 200, redeemed.text
    assert await outbox_types(connection, coupon["id"]) == [
        "coupon.claimed",
        "transfer.created",
        "transfer.accepted",
        "coupon.transferred",
        "coupon.redeemed",
    ]
    data = (
        await connection.execute(
            text("SELECT data::text FROM coupons.outbox WHERE entity_id = :id"),
            {"id": coupon["id"]},
        )
    ).scalars()
    for document in data:
        assert coupon["code"] not in document
        assert taken["code"] not in document
        assert gift["claim_token"] not in document
    # Both ends see the transfer, without the code.
    for headers in (sender, recipient):
        seen = await world.http.get(f"/api/v1/transfers/{gift['id']}", headers=headers)
        assert seen.status_code == 200
        assert seen.json()["status"] == "accepted"
        assert "code" not in seen.json()["coupon"]
    stranger = world.customer()[1]
    hidden = await world.http.get(f"/api/v1/transfers/{gift['id']}", headers=stranger)
    assert hidden.status_code == 404


async def test_refusals_change_nothing(world: World, connection: AsyncConnection) -> None:
    shop = world.shop()
    coupon, sender = await world.coupon(shop)
    gift = (await give(world, coupon["code"], sender)).json()
    recipient = world.customer()[1]
    cases = [
        (
            accept(world, gift["id"], "not the token", recipient),
            403,
            "invalid_claim_token",
        ),
        (accept(world, gift["id"], gift["claim_token"], sender), 409, "own_transfer"),
        (give(world, coupon["code"], sender), 409, "coupon_locked"),
        (
            world.http.post(
                "/api/v1/exchange/listings", json={"coupon_code": coupon["code"]}, headers=sender
            ),
            409,
            "coupon_locked",
        ),
        (
            accept(world, "00000000-0000-4000-8000-000000000000", gift["claim_token"], recipient),
            404,
            "transfer_not_found",
        ),
        (
            world.http.post(f"/api/v1/transfers/{gift['id']}/cancel", headers=recipient),
            404,
            "transfer_not_found",
        ),
    ]
    for call, status, code in cases:
        response = await call
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
    assert await wallet_ids(world, sender) == {coupon["id"]: "reserved"}
    assert await outbox_types(connection, coupon["id"]) == ["coupon.claimed", "transfer.created"]


async def test_the_sender_cancels_and_the_token_then_fails(world: World) -> None:
    shop = world.shop()
    coupon, sender = await world.coupon(shop)
    gift = (await give(world, coupon["code"], sender)).json()
    response = await world.http.post(f"/api/v1/transfers/{gift['id']}/cancel", headers=sender)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active"
    assert response.json()["code"] == coupon["code"]
    assert await wallet_ids(world, sender) == {coupon["id"]: "active"}
    late = await accept(world, gift["id"], gift["claim_token"], world.customer()[1])
    assert (late.status_code, late.json()["code"]) == (409, "transfer_closed")
    again = await world.http.post(f"/api/v1/transfers/{gift['id']}/cancel", headers=sender)
    assert (again.status_code, again.json()["code"]) == (409, "transfer_closed")


async def test_a_lapsed_gift_is_refused_and_the_sweep_gives_the_coupon_back(
    world: World, connection: AsyncConnection, coupons_app: Any
) -> None:
    shop = world.shop()
    coupon, sender = await world.coupon(shop)
    gift = (await give(world, coupon["code"], sender)).json()
    await connection.execute(
        text(
            "UPDATE coupons.transfers SET expires_at = now() - interval '1 second' WHERE id = :id"
        ),
        {"id": gift["id"]},
    )
    late = await accept(world, gift["id"], gift["claim_token"], world.customer()[1])
    assert (late.status_code, late.json()["code"]) == (409, "transfer_expired")
    assert await wallet_ids(world, sender) == {coupon["id"]: "reserved"}
    await coupons_app.state.runtime.sweep()
    assert await wallet_ids(world, sender) == {coupon["id"]: "active"}
    seen = (await world.http.get(f"/api/v1/transfers/{gift['id']}", headers=sender)).json()
    assert seen["status"] == "expired"
    assert (await outbox_types(connection, coupon["id"]))[-1] == "transfer.expired"
    # The coupon can be given again.
    assert (await give(world, coupon["code"], sender)).status_code == 201


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ("status = 'redeemed'", 409, "already_redeemed"),
        ("status = 'void'", 409, "coupon_void"),
        ("expires_at = now() - interval '1 minute'", 409, "coupon_expired"),
    ],
)
async def test_only_an_active_coupon_is_given(
    world: World, connection: AsyncConnection, change: str, status: int, code: str
) -> None:
    shop = world.shop()
    coupon, sender = await world.coupon(shop)
    await connection.execute(
        text(f"UPDATE coupons.coupons SET {change} WHERE id = :id"),  # noqa: S608
        {"id": coupon["id"]},
    )
    response = await give(world, coupon["code"], sender)
    assert (response.status_code, response.json()["code"]) == (status, code)


async def test_who_may_give(world: World) -> None:
    shop = world.shop()
    coupon, _ = await world.coupon(shop, transferable=False)
    stranger = world.customer()[1]
    assert (await give(world, coupon["code"], stranger)).status_code == 404
    assert (await give(world, coupon["code"], shop.owner)).status_code == 403
    _, owner = world.customer()
    own = await world.claim(await world.campaign(shop, transferable=False), owner)
    response = await give(world, own["code"], owner)
    assert (response.status_code, response.json()["code"]) == (409, "not_transferable")


async def test_a_retried_gift_answers_the_same_transfer_and_token(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    coupon, sender = await world.coupon(shop)
    key = {"Idempotency-Key": "gift-1"}
    first = await give(world, coupon["code"], sender | key)
    second = await give(world, coupon["code"], sender | key)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["cache-control"] == "no-store"
    # The token is derived from the transfer, so the retry answers exactly the first body:
    # a token the sender already shared keeps working.
    assert second.json() == first.json()
    count = await connection.execute(
        text("SELECT count(*) FROM coupons.transfers WHERE coupon_id = :id"), {"id": coupon["id"]}
    )
    assert count.scalar_one() == 1
    # No table keeps a token: the idempotency store has nothing for this request.
    stored = await connection.execute(
        text("SELECT count(*) FROM coupons.idempotency_keys WHERE key = 'gift-1'")
    )
    assert stored.scalar_one() == 0
    assert "transfer.token_rotated" not in await outbox_types(connection, coupon["id"])
    recipient = world.customer()[1]
    taken = await accept(world, first.json()["id"], first.json()["claim_token"], recipient)
    assert taken.status_code == 200
    # The key named another coupon: refused.
    other, _ = await world.coupon(shop)
    reused = await give(world, other["code"], sender | key)
    assert reused.status_code in (404, 422)


async def test_a_gifts_key_expires_with_the_idempotency_retention(
    world: World, connection: AsyncConnection
) -> None:
    coupon, sender = await world.coupon(world.shop())
    key = {"Idempotency-Key": "gift-old"}
    first = (await give(world, coupon["code"], sender | key)).json()
    cancel = f"/api/v1/transfers/{first['id']}/cancel"
    assert (await world.http.post(cancel, headers=sender)).status_code == 200
    # A day and more later (IDEMPOTENCY_KEY_RETENTION_HOURS: 24), the key is free again.
    await connection.execute(
        text("UPDATE coupons.transfers SET created_at = created_at - interval '25 hours'")
    )
    again = await give(world, coupon["code"], sender | key)
    assert again.status_code == 201, again.text
    assert "idempotent-replayed" not in again.headers
    assert again.json()["id"] != first["id"]


async def rotate(world: World, transfer_id: str, headers: Headers) -> Any:
    return await world.http.post(f"/api/v1/transfers/{transfer_id}/claim-token", headers=headers)


async def test_the_sender_rotates_the_claim_token(
    world: World, connection: AsyncConnection
) -> None:
    shop = world.shop()
    coupon, sender = await world.coupon(shop)
    gift = (await give(world, coupon["code"], sender | {"Idempotency-Key": "g"})).json()
    stranger = world.customer()[1]
    assert (await rotate(world, gift["id"], stranger)).json()["code"] == ("transfer_not_found")
    rotated = await rotate(world, gift["id"], sender)
    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    fresh = rotated.json()
    assert fresh["id"] == gift["id"]
    assert fresh["claim_token"] != gift["claim_token"]
    assert "transfer.token_rotated" in await outbox_types(connection, coupon["id"])
    # A retry of the gift now answers the current token, not the one rotated out.
    retried = (await give(world, coupon["code"], sender | {"Idempotency-Key": "g"})).json()
    assert retried["claim_token"] == fresh["claim_token"]
    recipient = world.customer()[1]
    stale = await accept(world, gift["id"], gift["claim_token"], recipient)
    assert (stale.status_code, stale.json()["code"]) == (403, "invalid_claim_token")
    taken = await accept(world, gift["id"], fresh["claim_token"], recipient)
    assert taken.status_code == 200
    closed = await rotate(world, gift["id"], sender)
    assert (closed.status_code, closed.json()["code"]) == (409, "transfer_closed")


async def test_accept_and_cancel_take_an_idempotency_key(world: World) -> None:
    shop = world.shop()
    coupon, sender = await world.coupon(shop)
    gift = (await give(world, coupon["code"], sender)).json()
    recipient = world.customer()[1] | {"Idempotency-Key": "take-it"}
    first = await accept(world, gift["id"], gift["claim_token"], recipient)
    second = await accept(world, gift["id"], gift["claim_token"], recipient)
    assert first.status_code == second.status_code == 200
    assert second.headers["idempotent-replayed"] == "true"
    assert first.json() == second.json()


async def test_lists_of_sent_and_received(world: World) -> None:
    shop = world.shop()
    coupon, sender = await world.coupon(shop)
    gift = (await give(world, coupon["code"], sender)).json()
    recipient = world.customer()[1]
    await accept(world, gift["id"], gift["claim_token"], recipient)
    sent = (await world.http.get("/api/v1/transfers?role=sent", headers=sender)).json()
    received = (await world.http.get("/api/v1/transfers?role=received", headers=recipient)).json()
    assert [t["id"] for t in sent["items"]] == [gift["id"]]
    assert [t["id"] for t in received["items"]] == [gift["id"]]
    assert (await world.http.get("/api/v1/transfers?role=received", headers=sender)).json()[
        "items"
    ] == []
