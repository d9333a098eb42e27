"""The run's database: made fresh and dropped, its connections counted, the platform's
events waited for, and the counts a scenario checks against its answers."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass

import asyncpg
from bare_app import BARE_ACTOR
from sqlalchemy import make_url

from core.config import PlatformSettings
from hotpaths.base import BenchError, progress

DELIVERY_TIMEOUT = 60.0
OUTBOX_SCHEMAS = ("auth", "merchants", "coupons")


@dataclass
class Database:
    url: str
    name: str
    created: bool
    description: str


async def create_database(server_url: str, description: str) -> Database:
    """A fresh database on the server; the server's own one when we may not create any."""
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.InsufficientPrivilegeError:
        progress("no CREATEDB privilege: benchmarking in DATABASE_URL's database itself")
        return Database(server_url, make_url(server_url).database or "", False, description)
    finally:
        await admin.close()
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    return Database(url, name, True, f"{description}, fresh database {name}")


async def drop_database(server_url: str, database: Database) -> None:
    if not database.created:
        return
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    finally:
        await admin.close()


async def undelivered_events(db: asyncpg.Connection) -> list[str]:
    """Each undelivered event of the platform: its service, type, attempts and last error."""
    found: list[str] = []
    for schema in OUTBOX_SCHEMAS:
        # The bare app writes outbox rows too (its statements are the platform's), but
        # nothing of it delivers them.
        rows = await db.fetch(
            f'SELECT type, attempts, last_error FROM "{schema}".outbox '  # noqa: S608
            "WHERE delivered_at IS NULL AND actor IS DISTINCT FROM $1 ORDER BY occurred_at",
            BARE_ACTOR,
        )
        found += [
            f"{schema} {r['type']} ({r['attempts']} attempts: {r['last_error']})" for r in rows
        ]
    return found


async def events_delivered(db: asyncpg.Connection) -> float:
    """Wait until the platform has delivered every event it committed; the seconds waited."""
    started = time.monotonic()
    while left := await undelivered_events(db):
        if time.monotonic() - started > DELIVERY_TIMEOUT:
            raise BenchError(
                f"{len(left)} events undelivered after {DELIVERY_TIMEOUT:.0f} s, the first: "
                + "; ".join(left[:3])
            )
        await asyncio.sleep(0.02)
    return time.monotonic() - started


CONNECTIONS_WAIT = 900.0  # seconds to wait for another run to free the server's connections


async def enough_connections(db: asyncpg.Connection) -> None:
    """Wait, then give up, rather than fail halfway, while the server cannot take this run's
    connections: full pools (reads' included) for svc-coupons and svc-auth in each of the
    three platforms and for each baseline, and a few for svc-merchants and this process. Two
    runs at once on one server with the default max_connections of 100 do not fit: the second
    waits for the first."""
    settings = PlatformSettings()
    needed = (
        8 * (settings.database_pool_size + settings.database_max_overflow)
        + 6 * settings.database_read_pool_size
        + 16
    )
    limit = int(await db.fetchval("SHOW max_connections"))
    reserved = int(await db.fetchval("SHOW superuser_reserved_connections"))
    deadline = time.monotonic() + CONNECTIONS_WAIT
    while True:
        in_use = int(await db.fetchval("SELECT count(*) FROM pg_stat_activity"))
        free = limit - reserved - in_use
        if free >= needed:
            return
        if time.monotonic() > deadline:
            raise BenchError(
                f"PostgreSQL has {free} connections free (max_connections {limit}, {in_use} "
                f"in use) and this run may need {needed}: another bench run or test suite "
                "holds them. Point DATABASE_URL at another server, or raise max_connections."
            )
        progress(
            f"waiting: PostgreSQL has {free} connections free, this run may need {needed} "
            "(another run or test suite is using the server)"
        )
        await asyncio.sleep(10)


async def issued_counts(db: asyncpg.Connection, campaign_id: str) -> tuple[int, int]:
    """The campaign's units issued (the sum of its counter shards, where claims, codes and
    partner shares take them) and its coupon rows."""
    row = await db.fetchrow(
        "SELECT (SELECT coalesce(sum(taken), 0) FROM coupons.campaign_units"
        " WHERE campaign_id = $1), (SELECT count(*) FROM coupons.coupons WHERE campaign_id = $1)",
        uuid.UUID(campaign_id),
    )
    assert row is not None
    return int(row[0]), int(row[1])
