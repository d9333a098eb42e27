"""Alembic for one service on a shared database: own schema, own version table.

A service's `alembic/env.py` is a call to `run_service_migrations(metadata)`.

Migrations run on a live database. Each runs in a transaction of its own, so the locks it
takes are released when it commits, not when the last of a deploy's migrations does; a
migration that fails leaves nothing of itself but what its `autocommit_block()` committed,
and those before it stay applied. Every run
begins with the session's timeouts (MigrationTimeouts), in the SQL itself: a statement
blocked behind a lock fails after a few seconds instead of holding every request queued
behind it, and the offline SQL (what `make lint-migrations` checks) shows them as the
database gets them. They are set for the session, not the transaction, so that a
migration's `autocommit_block()` (an index built concurrently, a constraint validated)
keeps them; the runners give each run a connection of its own, closed after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import Connection, MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from core.config import PlatformSettings
from core.database.engine import Database

# Where a runner hands env.py the run's timeouts (Config.attributes).
TIMEOUTS_ATTRIBUTE = "migration_timeouts"


@dataclass(frozen=True)
class MigrationTimeouts:
    """How long one migration statement may wait for a lock, and may run."""

    lock_timeout_seconds: float = 5.0
    statement_timeout_seconds: float = 300.0

    @classmethod
    def from_settings(cls, settings: PlatformSettings) -> MigrationTimeouts:
        return cls(
            lock_timeout_seconds=settings.database_migration_lock_timeout_seconds,
            statement_timeout_seconds=settings.database_migration_statement_timeout_seconds,
        )

    def within(self, seconds: float) -> MigrationTimeouts:
        """No statement outlasting `seconds` (what a Lambda invocation has left): a function
        stopped mid-statement would leave its locks to the server until it noticed."""
        statement = max(1.0, min(self.statement_timeout_seconds, seconds))
        return MigrationTimeouts(min(self.lock_timeout_seconds, statement), statement)

    def statements(self) -> list[str]:
        return [
            f"SET lock_timeout = '{_milliseconds(self.lock_timeout_seconds)}ms'",
            f"SET statement_timeout = '{_milliseconds(self.statement_timeout_seconds)}ms'",
        ]


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def backfill_in_batches(update: str) -> None:
    """Run `update`, an UPDATE of at most one batch of rows that leaves them out of its next
    batch (`... WHERE id IN (SELECT id ... WHERE note IS NULL LIMIT 1000)`), until it changes
    nothing. Each batch commits on its own, so no row stays locked for long and no statement
    nears the statement timeout; it is called in a migration's `autocommit_block()`, and is
    safe to run again (the migration is recorded only after it). Offline, the SQL is the
    one statement."""
    if context.is_offline_mode():
        op.execute(update)
        return
    connection = op.get_bind()
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        raise RuntimeError("backfill_in_batches runs in op.get_context().autocommit_block()")
    while connection.execute(text(update)).rowcount:
        pass


def _include_name_for(schema: str) -> Any:
    def include_name(name: str | None, type_: str, parent_names: dict[str, Any]) -> bool:
        # Autogenerate must never see, let alone drop, another service's schema.
        if type_ == "schema":
            return name == schema
        return True

    return include_name


def _timeouts() -> MigrationTimeouts:
    given: MigrationTimeouts | None = context.config.attributes.get(TIMEOUTS_ATTRIBUTE)
    return given or MigrationTimeouts.from_settings(PlatformSettings())


def _set_timeouts() -> None:
    for statement in _timeouts().statements():
        context.execute(statement)


def _ensure_schema(connection: Connection, schema: str) -> None:
    # Even IF NOT EXISTS checks the database-level CREATE right; a service's own role has
    # it only on its schema, so ask first.
    exists = connection.execute(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
    ).first()
    if exists is None:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))


def _configure_and_run(connection: Connection, metadata: MetaData) -> None:
    schema = metadata.schema
    assert schema, "a service's metadata names its schema"
    # Alembic owns the transactions when nothing ran on the connection before it was
    # configured: a migration's autocommit_block() needs that (it commits what came before
    # it). A caller's open transaction (a test that rolls everything back) holds them all.
    owned = not connection.in_transaction()
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table_schema=schema,
        include_schemas=True,
        include_name=_include_name_for(schema),
        compare_type=True,
        transaction_per_migration=True,
    )
    _set_timeouts()
    _ensure_schema(connection, schema)
    context.run_migrations()
    if owned and connection.in_transaction():
        # With nothing to migrate, the timeouts' SET, the schema and the version table's
        # read were in no migration's transaction (the first one commits them otherwise).
        connection.commit()


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
            transaction_per_migration=True,
        )
        _set_timeouts()
        context.run_migrations()
        return

    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection, metadata)
        return

    async def run_online() -> None:
        engine = create_async_engine(Database(PlatformSettings()).url(), poolclass=NullPool)
        async with engine.connect() as async_connection:
            await async_connection.run_sync(_configure_and_run, metadata)
        await engine.dispose()

    asyncio.run(run_online())


def alembic_config(service_dir: Path, timeouts: MigrationTimeouts | None = None) -> Config:
    config = Config(str(service_dir / "alembic.ini"))
    config.set_main_option("script_location", str(service_dir / "alembic"))
    if timeouts is not None:
        config.attributes[TIMEOUTS_ATTRIBUTE] = timeouts
    return config


async def upgrade_services(
    connection: AsyncConnection,
    service_dirs: Iterable[Path],
    timeouts: MigrationTimeouts | None = None,
) -> None:
    """Bring every given service's schema to head over one open connection, outside any
    transaction (each service's migrations run in transactions of their own)."""
    if connection.in_transaction():
        raise ValueError("migrations run on a connection outside a transaction: connect()")

    def upgrade(sync_connection: Connection, service_dir: Path) -> None:
        config = alembic_config(service_dir, timeouts)
        config.attributes["connection"] = sync_connection
        command.upgrade(config, "head")

    for service_dir in service_dirs:
        await connection.run_sync(upgrade, service_dir)
