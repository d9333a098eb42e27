"""Events: written to the outbox with the change, delivered after commit to bus and audit."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.events import DomainEvent
from devstack.api import MerchantsApi, bearer
from svc_merchants.repositories.schema_model import platform_tables

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
