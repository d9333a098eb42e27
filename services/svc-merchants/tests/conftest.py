from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

from core.config import PlatformSettings
from core.database.engine import ConnectionBoundDatabase
from core.events import DomainEvent
from devstack.testing.api import MerchantsApi
from devstack.testing.tokens import TestTokens
from svc_merchants.app import create_app
from svc_merchants.config import MerchantsSettings
from svc_merchants.services import events


@pytest.fixture
def merchants_settings() -> MerchantsSettings:
    return MerchantsSettings(max_outlets_per_merchant=3)


@pytest.fixture
def merchants_app(
    connection: AsyncConnection,
    platform_settings: PlatformSettings,
    merchants_settings: MerchantsSettings,
    aws: Any,
) -> FastAPI:
    return create_app(
        merchants_settings,
        platform_settings,
        database=ConnectionBoundDatabase(platform_settings, connection),
    )


@pytest.fixture
async def client(merchants_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=merchants_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def api(client: httpx.AsyncClient) -> MerchantsApi:
    return MerchantsApi(client)


@pytest.fixture
def published(merchants_app: FastAPI) -> list[DomainEvent]:
    """Every event the relay delivered to the in-process bus, in order."""
    delivered: list[DomainEvent] = []

    async def record(event: DomainEvent) -> None:
        delivered.append(event)

    for event_type in (
        events.MERCHANT_APPLIED,
        events.MERCHANT_VERIFIED,
        events.MERCHANT_UPDATED,
        events.MERCHANT_SUSPENDED,
        events.MERCHANT_REINSTATED,
        events.OUTLET_CREATED,
        events.OUTLET_UPDATED,
        events.OUTLET_DELETED,
    ):
        merchants_app.state.runtime.bus.subscribe(event_type, record)
    return delivered


@pytest.fixture
def applicant_id() -> UUID:
    return uuid4()


@pytest.fixture
def applicant(tokens: TestTokens, applicant_id: UUID) -> str:
    """A signed-in customer who applies for merchants: not an owner of anything yet."""
    return tokens.token(subject=applicant_id)


@pytest.fixture
def admin(tokens: TestTokens) -> str:
    return tokens.admin()


@pytest.fixture
def stranger(tokens: TestTokens) -> str:
    """Another signed-in customer."""
    return tokens.token()


@pytest.fixture
async def pending(api: MerchantsApi, applicant: str) -> dict[str, Any]:
    return await api.apply(applicant, name="Pending Pies")


@pytest.fixture
async def verified(api: MerchantsApi, applicant: str, admin: str) -> dict[str, Any]:
    merchant = await api.apply(applicant, name="Verified Veg")
    return await api.verify(admin, merchant["id"])


@pytest.fixture
def owner(tokens: TestTokens, applicant_id: UUID, verified: dict[str, Any]) -> str:
    """The applicant's next token once svc-auth made them the verified merchant's owner."""
    return owner_of(tokens, verified["id"], applicant_id)


def owner_of(tokens: TestTokens, merchant_id: str, user_id: UUID | None = None) -> str:
    return tokens.token(subject=user_id or uuid4(), memberships=((UUID(merchant_id), "owner"),))


@pytest.fixture
def owner_token_for(tokens: TestTokens) -> Callable[[str], str]:
    """owner_token_for(merchant_id): a token of some user who owns that merchant."""

    def mint(merchant_id: str) -> str:
        return owner_of(tokens, merchant_id)

    return mint
