"""The `migrate` action: a service's Alembic migrations, then its after-migrate step.

The deploy trigger runs it before the new version serves (docs/deploying.md). A database
already at a revision this bundle does not know (CloudFormation rolling back to older code
after a newer deploy's migrations committed) is left as it is, and the action succeeds:
failing would fail the rollback itself.

The migrations run with the same session timeouts as everywhere (core.database.migrations),
no statement outlasting what the invocation has left, on a connection of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy import Connection

    from core.database.migrations import MigrationTimeouts

logger = logging.getLogger(__name__)


# What an invocation keeps after its last migration statement: the after-migrate step and
# the answer to the deploy.
AFTER_MIGRATIONS_SECONDS = 5.0


async def migrate_service(
    app: FastAPI, *, service_dir: Path, seconds_left: float
) -> dict[str, Any]:
    """Upgrade the service's schema to head over a connection of its own to the app's
    database, then run the app's optional `app.state.after_migrate` coroutine function
    (svc-auth's bootstrap admin). `seconds_left`: the invocation's remaining time."""
    from core.database.migrations import MigrationTimeouts

    runtime = app.state.runtime
    service: str = runtime.name
    timeouts = MigrationTimeouts.from_settings(runtime.settings).within(
        seconds_left - AFTER_MIGRATIONS_SECONDS
    )
    engine = runtime.database.migration_engine(timeouts.statement_timeout_seconds)
    try:
        async with engine.connect() as connection:
            unknown = await connection.run_sync(
                upgrade_to_head, service_dir / "alembic.ini", timeouts
            )
    finally:
        await engine.dispose()
    if unknown:
        # Older code than the database (a rollback): the newer deploy's migrations and
        # its after-migrate step ran already. Migrations are additive first, so the
        # older code works on the newer schema (docs/deploying.md).
        logger.warning(
            "%s: database at revision(s) %s, unknown to this bundle: left as it is",
            service,
            ", ".join(unknown),
        )
        return {"migrated": service, "unknown_revisions": unknown}
    after_migrate: Callable[[], Awaitable[object]] | None = getattr(
        app.state, "after_migrate", None
    )
    if after_migrate is not None:
        await after_migrate()
    logger.info("%s migrated", service)
    return {"migrated": service}


def upgrade_to_head(
    connection: Connection, alembic_ini: Path, timeouts: MigrationTimeouts
) -> list[str]:
    """Alembic over `connection` (outside a transaction: the migrations' own transactions
    begin on it), with the scripts where the ini says.

    Returns the database's current revisions that the scripts do not know, without
    migrating anything, when there are any; else upgrades to head and returns [].

    Unlike core.database.migrations.alembic_config, the ini's script_location is kept: in a
    Lambda bundle the scripts are not in `alembic/`, which would shadow the alembic library
    installed beside them (see infra.bundle).
    """
    from alembic import command  # only when migrating: not on any request's import path
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    from core.database.migrations import TIMEOUTS_ATTRIBUTE

    config = Config(str(alembic_ini))
    config.attributes["connection"] = connection
    config.attributes[TIMEOUTS_ATTRIBUTE] = timeouts
    script = ScriptDirectory.from_config(config)
    known = {revision.revision for revision in script.walk_revisions()}
    unknown: list[str] = []

    def current(heads: tuple[str, ...], context: object) -> list[object]:
        # The service's env.py reads its version table (own schema); nothing is migrated.
        unknown.extend(sorted(head for head in heads if head not in known))
        return []

    # dont_mutate: not even the version table is created by this look.
    with EnvironmentContext(config, script, fn=current, dont_mutate=True):
        script.run_env()
    if not unknown:
        command.upgrade(config, "head")
    return unknown
