from __future__ import annotations

import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection

import core.dynamo
from core.config import PlatformSettings
from core.database.engine import ConnectionBoundDatabase
from devstack.testing.api import AuthApi
from devstack.testing.tokens import TestTokens
from svc_auth.app import create_app
from svc_auth.config import AuthSettings

# Cheap hashes keep the suite fast; production parameters are the settings' defaults.
FAST_HASHING = {"password_time_cost": 1, "password_memory_kib": 1024, "password_parallelism": 1}


@pytest.fixture
def auth_settings() -> AuthSettings:
    return AuthSettings(**FAST_HASHING, login_max_failures=3)


@pytest.fixture
def auth_app(
    connection: AsyncConnection,
    platform_settings: PlatformSettings,
    auth_settings: AuthSettings,
    tokens: TestTokens,
    aws: Any,
) -> FastAPI:
    return create_app(
        auth_settings,
        platform_settings,
        database=ConnectionBoundDatabase(platform_settings, connection),
        keys=tokens.keys,
    )


@pytest.fixture
async def client(auth_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=auth_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def accounts(client: httpx.AsyncClient) -> AuthApi:
    return AuthApi(client)


@pytest.fixture
def one_counting_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The limits' counters' clock stands still just after the start of an hour (a start of
    every window they count in), so a test's requests share one window however slowly a
    loaded machine runs them, and none meets a window boundary half-way."""
    start = time.time() // 3600 * 3600 + 1
    monkeypatch.setattr(core.dynamo, "time", SimpleNamespace(time=lambda: start))
