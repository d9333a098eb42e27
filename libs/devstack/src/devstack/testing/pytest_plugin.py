"""Shared fixtures: a fresh database built by the migrations, rolled back per test; moto.

The database is `TEST_DATABASE_URL`'s server when set, else an embedded one (pgserver's
PostgreSQL 16, the major version RDS runs); either way a new database is created for the
run and dropped after.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from core.config import Environment, PlatformSettings
from core.database.engine import asyncpg_url
from core.database.migrations import upgrade_services
from core.dynamo import ensure_tables
from devstack.stack.embedded import EmbeddedPostgres, connect
from devstack.stack.services import REPO_ROOT, all_service_dirs
from devstack.testing.tokens import TestTokens

for name, value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ.setdefault(name, value)


def _server_url() -> tuple[str, EmbeddedPostgres | None]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url, None
    embedded = EmbeddedPostgres(REPO_ROOT / ".local" / "test-pgdata")
    return embedded.start(), embedded


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    server_url, embedded = _server_url()
    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = await connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = asyncpg_url(server_url).set(database=name).render_as_string(hide_password=False)
    yield url
    admin = await connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
    if embedded is not None:
        embedded.stop()


@pytest.fixture(scope="session")
async def migrated_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url, poolclass=NullPool)
    async with engine.connect() as connection:
        await upgrade_services(connection, all_service_dirs())
    yield engine
    await engine.dispose()


@pytest.fixture
async def empty_database_url(database_url: str) -> AsyncIterator[str]:
    """A database of its own on the session's server, with nothing in it, for a test that
    migrates it (what the first deploy finds) or commits what it changes."""
    name = f"test_empty_{uuid.uuid4().hex[:12]}"
    admin = await connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    yield asyncpg_url(database_url).set(database=name).render_as_string(hide_password=False)
    admin = await connect(database_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def connection(migrated_engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One connection in one transaction; every session of the test is a savepoint in it."""
    async with migrated_engine.connect() as conn:
        transaction = await conn.begin()
        yield conn
        await transaction.rollback()


@pytest.fixture(scope="session")
def tokens() -> TestTokens:
    return TestTokens.generate()


@pytest.fixture
def platform_settings(database_url: str, tokens: TestTokens, tmp_path: Path) -> PlatformSettings:
    return PlatformSettings(
        environment=Environment.TEST,
        database_url=database_url,
        database_pool_size=2,
        jwt_issuer=tokens.issuer,
        jwt_audience=tokens.audience,
        jwt_jwks=json.dumps(tokens.keys.jwks()),
        local_state_dir=tmp_path,
        audit_table="test-audit",
        cache_table="test-cache",
        # Delivered before the request returns: a test reads the audit trail or the
        # outbox right after an action. The relay's own tests cover background delivery.
        event_delivery="inline",
    )


@pytest.fixture
def aws(platform_settings: PlatformSettings) -> Iterator[Any]:
    """Fresh moto DynamoDB per test, with the platform's tables."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name=platform_settings.aws_region)
        ensure_tables(client, platform_settings)
        yield client
