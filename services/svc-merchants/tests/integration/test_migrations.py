"""The migrations build the `merchants` schema with its own version table and list indexes.

That models and migrations agree (`alembic check`) is tested for every service in
tests/test_migrations.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import Connection, insert, inspect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from svc_merchants.repositories.schema_model import MerchantRow, OutletRow

SCHEMA = "merchants"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def merchant_row(**overrides: Any) -> dict[str, Any]:
    return {
        "id": uuid4(),
        "name": "Row",
        "status": "verified",
        "owner_user_id": uuid4(),
        "country": "DE",
        "currency": "EUR",
        "timezone": "UTC",
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


async def test_the_schema_has_its_own_version_table_and_list_indexes(
    connection: AsyncConnection,
) -> None:
    def look(sync: Connection) -> tuple[list[str], set[str], set[str]]:
        inspector = inspect(sync)
        return (
            sorted(inspector.get_table_names(schema=SCHEMA)),
            {ix["name"] or "" for ix in inspector.get_indexes("merchants", schema=SCHEMA)},
            {ix["name"] or "" for ix in inspector.get_indexes("outlets", schema=SCHEMA)},
        )

    tables, merchant_indexes, outlet_indexes = await connection.run_sync(look)
    assert tables == [
        "alembic_version",
        "idempotency_keys",
        "merchants",
        "outbox",
        "outlets",
        "processed_events",
    ]
    assert "ix_merchants_status_created_at_id" in merchant_indexes
    assert "ix_merchants_owner_user_id_created_at_id" in merchant_indexes
    assert "ix_outlets_merchant_id_created_at_id" in outlet_indexes


async def test_the_database_refuses_an_unknown_status(connection: AsyncConnection) -> None:
    with pytest.raises(IntegrityError, match="ck_merchants_status"):
        async with connection.begin_nested():
            await connection.execute(insert(MerchantRow).values(merchant_row(status="closed")))


@pytest.mark.parametrize(
    "position",
    [{"latitude": 10.0}, {"longitude": 10.0}, {"latitude": 91.0, "longitude": 0.0}],
)
async def test_the_database_refuses_half_or_impossible_positions(
    connection: AsyncConnection, position: dict[str, float]
) -> None:
    merchant = merchant_row()
    await connection.execute(insert(MerchantRow).values(merchant))
    outlet = {
        "id": uuid4(),
        "merchant_id": merchant["id"],
        "name": "Row",
        "address": "Street 1",
        "created_at": NOW,
        "updated_at": NOW,
        **position,
    }
    with pytest.raises(IntegrityError, match="ck_outlets_position"):
        async with connection.begin_nested():
            await connection.execute(insert(OutletRow).values(outlet))
