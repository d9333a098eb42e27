"""The PostgreSQL the flash bench loads: its own embedded server, sized for its clients.

DATABASE_URL's server when set (then the client counts it has no room for are skipped,
and said so); else an embedded one (pgserver) in .local/flash-pgdata, never the developer's
or the tests' data directory, with max_connections raised for 256 clients and the
bystanders (set with ALTER SYSTEM, the server restarted once when it was lower). Either
way each run gets a fresh database migrated with svc-coupons' migrations, dropped at the end.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass

import asyncpg
from sqlalchemy import make_url

from core.routing import SERVICES
from devstack.stack.bring_up import migrate
from devstack.stack.embedded import EmbeddedPostgres
from devstack.stack.services import REPO_ROOT

PGDATA_DIR = REPO_ROOT / ".local" / "flash-pgdata"
MAX_CONNECTIONS = 400  # 256 clients, the bystanders and room for everything else


@dataclass
class Database:
    url: str  # postgresql://, for asyncpg and as pgbench's libpq connection string
    name: str
    server_url: str
    max_connections: int
    server_version: str


def plain(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def start_embedded() -> tuple[EmbeddedPostgres, str]:
    """The bench's embedded server, max_connections at least MAX_CONNECTIONS."""
    embedded = EmbeddedPostgres(PGDATA_DIR, max_connections=MAX_CONNECTIONS)
    return embedded, embedded.start()


async def create_database(server_url: str, *, wait_for_flush: bool = True) -> Database:
    """A fresh database, migrated. `wait_for_flush=False`: its sessions commit without waiting
    for the WAL to reach the disk (synchronous_commit off), to see the round trip's share
    apart from a slow local disk's flush, which a claim holding a hot row waits for too."""
    server_url = plain(server_url)
    name = f"flash_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        limit = int(await admin.fetchval("SHOW max_connections"))
        version = str(await admin.fetchval("SHOW server_version"))
    finally:
        await admin.close()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    if not wait_for_flush:
        admin = await asyncpg.connect(url)
        try:
            await admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        finally:
            await admin.close()
    coupons = [service for service in SERVICES if service.name == "coupons"]
    previous = os.environ.get("DATABASE_URL")
    os.environ["DATABASE_URL"] = url  # what devstack.stack.migrate reads
    try:
        await migrate(coupons)
    finally:
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
    return Database(url, name, server_url, limit, version)


async def drop_database(database: Database) -> None:
    admin = await asyncpg.connect(database.server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    finally:
        await admin.close()
