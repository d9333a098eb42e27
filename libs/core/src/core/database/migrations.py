"""Alembic for one service on a shared database: own schema, own version table.

A service's `alembic/env.py` is a call to `run_service_migrations(metadata)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from core.config import PlatformSettings
from core.database.engine import Database


def _include_name_for(schema: str) -> Any:
    def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
        # Autogenerate must never see, let alone drop, another service's schema.
        if type_ == "schema":
            return name == schema
        return True

    return include_name


def _configure_and_run(connection: Connection, metadata: MetaData) -> None:
    schema = metadata.schema
    assert schema, "a service's metadata names its schema"
    # Even IF NOT EXISTS checks the database-level CREATE right; a service's own role has
    # it only on its schema, so ask first.
    exists = connection.execute(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
    ).first()
    if exists is None:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        include_schemas=True,
        include_name=_include_name_for(schema),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_service_migrations(metadata: MetaData) -> None:
    """The body of every service's env.py."""
    config = context.config
    schema = metadata.schema
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url") or "postgresql://",
            target_metadata=metadata,
            literal_binds=True,
            version_table_schema=schema,
            include_schemas=True,
            include_name=_include_name_for(schema or ""),
        )
        with context.begin_transaction():
            context.run_migrations()
        return

    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection, metadata)
        return

    async def run_online() -> None:
        engine = create_async_engine(Database(PlatformSettings()).url(), poolclass=NullPool)
        async with engine.begin() as async_connection:
            await async_connection.run_sync(_configure_and_run, metadata)
        await engine.dispose()

    asyncio.run(run_online())


def alembic_config(service_dir: Path) -> Config:
    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "alembic"))
    return config


async def upgrade_services(connection: AsyncConnection, service_dirs: Iterable[Path]) -> None:
    """Bring every given service's schema to head over one open connection."""

    def upgrade(sync_connection: Connection, service_dir: Path) -> None:
        config = alembic_config(service_dir)
        config.attributes["connection"] = sync_connection
        command.upgrade(config, "head")

    for service_dir in service_dirs:
        await connection.run_sync(upgrade, service_dir)
