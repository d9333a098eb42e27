"""Events: written to the outbox with the change, delivered after commit to bus and audit."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.config import PlatformSettings
from core.database.engine import ConnectionBoundDatabase
from core.events import DomainEvent
from devstack.testing.api import MerchantsApi, bearer
from svc_merchants.app import create_app
from svc_merchants.repositories.schema_model import platform_tables
from svc_merchants.services import events

outbox = platform_tables.outbox


async def outbox_rows(connection: AsyncConnection, merchant_id: str) -> list[Any]:
    rows = await connection.execute(
        select(outbox).where(outbox.c.entity_id == merchant_id).order_by(outbox.c.occurred_at)
    )
    return list(rows)


async def test_verify_writes_the_event_svc_auth_consumes(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    pending: dict[str, Any],
    admin: str,
    published: list[DomainEvent],
    applicant_id: UUID,
) -> None:
    response = await client.post(f"/api/v1/merchants/{pending['id']}/verify", headers=bearer(admin))
    assert response.status_code == 200
    expected = {"merchant_id": pending["id"], "owner_user_id": str(applicant_id)}

    rows = [
        r for r in await outbox_rows(connection, pending["id"]) if r.type == "merchant.verified"
    ]
    assert len(rows) == 1
    [row] = rows
    assert row.data == expected
    assert row.entity_type == "merchant"
    assert row.delivered_at is not None  # the relay ran after commit

    [event] = published
    assert event.type == "merchant.verified"
    assert event.id == row.id
    assert event.data == expected
    assert (event.entity_type, event.entity_id, event.source) == (
        "merchant",
        pending["id"],
        "merchants",
    )


async def test_a_merchants_events_form_one_audit_trail(
    client: httpx.AsyncClient,
    api: MerchantsApi,
    merchants_app: FastAPI,
    applicant: str,
    applicant_id: UUID,
    admin: str,
    owner_token_for: Any,
) -> None:
    merchant = await api.apply(applicant)
    merchant_id = merchant["id"]
    await api.verify(admin, merchant_id)
    owner = owner_token_for(merchant_id)
    outlet = await api.create_outlet(owner, merchant_id, latitude=1.5, longitude=2.5)
    outlets = f"/api/v1/merchants/{merchant_id}/outlets/{outlet['id']}"
    await client.patch(outlets, json={"address": "Elsewhere 2"}, headers=bearer(owner))
    await client.delete(outlets, headers=bearer(owner))
    await client.patch(
        f"/api/v1/merchants/{merchant_id}", json={"name": "Renamed"}, headers=bearer(owner)
    )
    await client.post(
        f"/api/v1/merchants/{merchant_id}/suspend", json={"reason": "audit"}, headers=bearer(admin)
    )
    await client.post(f"/api/v1/merchants/{merchant_id}/reinstate", headers=bearer(admin))

    history = await merchants_app.state.runtime.audit.history("merchant", merchant_id)
    assert [entry["type"] for entry in history] == [
        "merchant.applied",
        "merchant.verified",
        "outlet.created",
        "outlet.updated",
        "outlet.deleted",
        "merchant.updated",
        "merchant.suspended",
        "merchant.reinstated",
    ]
    by_type = {entry["type"]: entry for entry in history}
    assert by_type["merchant.applied"]["actor"] == str(applicant_id)
    assert by_type["merchant.applied"]["data"] == {
        "merchant_id": merchant_id,
        "owner_user_id": str(applicant_id),
        "name": merchant["name"],
        "country": "DE",
        "currency": "EUR",
        "timezone": "Europe/Berlin",
        "category": None,
    }
    assert by_type["outlet.created"]["data"] == {
        "merchant_id": merchant_id,
        "outlet_id": outlet["id"],
        "name": outlet["name"],
        "address": outlet["address"],
        "latitude": 1.5,
        "longitude": 2.5,
    }
    assert by_type["outlet.updated"]["data"]["changed"] == {"address": "Elsewhere 2"}
    assert by_type["merchant.suspended"]["data"] == {
        "merchant_id": merchant_id,
        "owner_user_id": str(applicant_id),
        "reason": "audit",
    }
    assert by_type["merchant.reinstated"]["data"] == {
        "merchant_id": merchant_id,
        "owner_user_id": str(applicant_id),
    }


async def test_a_refused_request_leaves_no_event(
    client: httpx.AsyncClient,
    connection: AsyncConnection,
    verified: dict[str, Any],
    admin: str,
    published: list[DomainEvent],
) -> None:
    before = await outbox_rows(connection, verified["id"])
    response = await client.post(
        f"/api/v1/merchants/{verified['id']}/verify", headers=bearer(admin)
    )
    assert response.status_code == 409
    assert await outbox_rows(connection, verified["id"]) == before
    assert published == []


async def test_background_delivery_answers_first_and_a_clean_stop_delivers_the_rest(
    connection: AsyncConnection, platform_settings: PlatformSettings, applicant: str, aws: Any
) -> None:
    """As a long-running server runs: the request only queues its events; the app's
    lifespan, at shutdown, delivers what is still queued."""
    platform = platform_settings.model_copy(update={"event_delivery": "background"})
    app = create_app(platform=platform, database=ConnectionBoundDatabase(platform, connection))
    subscriber_may_finish = asyncio.Event()
    delivered: list[DomainEvent] = []

    async def slow_subscriber(event: DomainEvent) -> None:
        await subscriber_may_finish.wait()
        delivered.append(event)

    app.state.runtime.bus.subscribe(events.MERCHANT_APPLIED, slow_subscriber)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        merchant = await MerchantsApi(http).apply(applicant)  # answered, delivery pending
        [row] = await outbox_rows(connection, merchant["id"])
        assert row.delivered_at is None
        assert delivered == []
        asyncio.get_running_loop().call_soon(subscriber_may_finish.set)

    [row] = await outbox_rows(connection, merchant["id"])
    assert row.delivered_at is not None
    assert [event.id for event in delivered] == [row.id]
    history = await app.state.runtime.audit.history("merchant", merchant["id"])
    assert [entry["type"] for entry in history] == ["merchant.applied"]
