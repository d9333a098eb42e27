"""How fast a sweep drains an outbox backlog into the audit table.

A backlog of BACKLOG undelivered events (default 10,000: a 5-minute outage at about 33
events a second) is written to an outbox table of a schema of the bench's own; then one
relay sweeps it, as the scheduled sweep does (claims of 250, BatchWriteItem calls of 25,
`OUTBOX_SWEEP_BUDGET_SECONDS` per sweep run, run after run until nothing is left), into
the local DynamoDB the stack uses (devstack's moto server, a process of its own), through
the platform's bounded client.

    .venv/bin/python bench/outbox_drain.py [BACKLOG] [DATABASE_URL]   # default: embedded

Prints events a second, sweep runs, and this process's CPU (the sweep's own work: the
database round trips, building items, boto3), apart from the moto server's.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

from sqlalchemy import MetaData, insert, text

from core.clock import utcnow
from core.config import Environment, PlatformSettings
from core.database.engine import Database
from core.database.platform_tables import PlatformTables
from core.dynamo import DynamoClientFactory, ensure_tables
from core.events.relay import OutboxRelay
from core.events.sinks import AuditTrail
from devstack.stack.embedded import EmbeddedDynamo, EmbeddedPostgres

SCHEMA = "outbox_drain_bench"
INSERT_BATCH = 1000


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_cpu_seconds(pid: int) -> float | None:
    """A process's CPU so far (Linux /proc), in seconds; None where it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def write_backlog(database: Database, table: object, backlog: int) -> None:
    outbox = PlatformTables.define(MetaData(schema=SCHEMA)).outbox
    started = utcnow() - timedelta(minutes=5)
    async with database.engine.begin() as connection:
        for start in range(0, backlog, INSERT_BATCH):
            await connection.execute(
                insert(outbox),
                [
                    {
                        "id": uuid4(),
                        "type": "coupon.claimed",
                        "entity_type": "coupon",
                        "entity_id": f"C{n:08d}",
                        "actor": "customer-1",
                        "occurred_at": started + timedelta(milliseconds=n),
                        "data": {"campaign_id": "camp-1", "code": f"C{n:08d}"},
                    }
                    for n in range(start, min(start + INSERT_BATCH, backlog))
                ],
            )


async def drain(url: str, dynamo_url: str, backlog: int, dynamo_pid: int | None) -> None:
    settings = PlatformSettings(
        environment=Environment.TEST,
        database_url=url,
        dynamodb_endpoint_url=dynamo_url,
        audit_table="outbox-drain-bench-audit",
        cache_table="outbox-drain-bench-cache",
    )
    import boto3

    ensure_tables(
        boto3.client("dynamodb", region_name=settings.aws_region, endpoint_url=dynamo_url),
        settings,
    )
    database = Database(settings)
    table = PlatformTables.define(MetaData(schema=SCHEMA)).outbox
    async with database.engine.begin() as connection:
        await connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await connection.run_sync(table.metadata.create_all)
    await write_backlog(database, table, backlog)
    relay = OutboxRelay(
        database=database,
        table=table,
        source="bench",
        sinks=[AuditTrail(DynamoClientFactory(settings), settings.audit_table)],
    )
    try:
        runs = delivered = failed = 0
        moto_cpu = child_cpu_seconds(dynamo_pid) if dynamo_pid else None
        load = os.getloadavg()
        cpu, wall = cpu_seconds(), time.perf_counter()
        while delivered < backlog:
            result = await relay.sweep(
                older_than=timedelta(0), budget_seconds=settings.outbox_sweep_budget_seconds
            )
            runs += 1
            delivered += result.delivered
            failed += result.failed
            if result.delivered == 0:
                break
        cpu, wall = cpu_seconds() - cpu, time.perf_counter() - wall
        moto_after = child_cpu_seconds(dynamo_pid) if dynamo_pid else None
    finally:
        async with database.engine.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA {SCHEMA} CASCADE"))
        await database.dispose()

    print(f"backlog {backlog} events, {delivered} delivered, {failed} failed")
    # The machine's load: on a shared machine the wall time is mostly waiting for a core.
    print(f"load average before/after: {load[0]:.1f} / {os.getloadavg()[0]:.1f}")
    print(f"sweep runs (budget {settings.outbox_sweep_budget_seconds:.0f} s each): {runs}")
    print(f"wall {wall:.1f} s: {delivered / wall:.0f} events/s")
    print(f"this process's CPU: {cpu:.1f} s ({cpu / wall:.0%} of one core)")
    if moto_cpu is not None and moto_after is not None:
        moto = moto_after - moto_cpu
        print(f"the moto server's CPU: {moto:.1f} s ({moto / wall:.0%} of one core)")


def main() -> None:
    # The moto server takes any credentials; boto3 wants some.
    for name, value in {
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    backlog = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    url = sys.argv[2] if len(sys.argv) > 2 else None
    postgres = None
    dynamo = EmbeddedDynamo()
    dynamo_url = dynamo.start()
    try:
        if url is None:
            postgres = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="outbox-drain-pg-")))
            url = postgres.start()
        pid = dynamo.process.pid if dynamo.process is not None else None
        asyncio.run(drain(url, dynamo_url, backlog, pid))
    finally:
        dynamo.stop()
        if postgres is not None:
            postgres.stop()


if __name__ == "__main__":
    main()
