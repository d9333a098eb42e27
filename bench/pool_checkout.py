"""What a pooled connection's liveness check costs a request, per checkout.

A request checks a connection out of the pool for its statements. After PostgreSQL
restarts, every pooled connection is dead; something must find out before a request uses
one. Three ways, each timed over the same loop of checkout + one `SELECT 1` on the driver
connection (what a lookup does) against a local server:

- none: no check (a dead connection fails the request that draws it);
- closed flag: core.database.engine's checkout hook, asyncpg's `is_closed()`, no round trip
  (it sees a server that closed the socket: a restart, a failover, an idle timeout);
- pre-ping: SQLAlchemy's pool_pre_ping, a round trip (three with the asyncpg adapter:
  BEGIN, `;`, ROLLBACK) on every checkout (it also sees a peer that vanished silently).

    .venv/bin/python bench/pool_checkout.py [DATABASE_URL]   # default: the embedded server

Prints microseconds of this process's CPU and of wall time per checkout for each.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from core.config import Environment, PlatformSettings
from core.database.driver import READS_ONLY, reading_connection
from core.database.engine import Database, _drop_closed_connection

ROUNDS = 3000


async def measure(url: str, *, check: str) -> tuple[float, float]:
    settings = PlatformSettings(
        environment=Environment.TEST, database_url=url, database_pool_size=2
    )
    database = Database(settings)
    engine = database.engine
    if check != "closed flag":
        event.remove(engine.sync_engine, "checkout", _drop_closed_connection)
    engine.sync_engine.pool._pre_ping = check == "pre-ping"

    async def one() -> None:
        session = database.session()
        session.info[READS_ONLY] = True
        async with reading_connection(session) as connection:
            await connection.fetchval("SELECT 1")
        await session.close()

    for _ in range(200):  # warm the pool and the statement cache
        await one()
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(ROUNDS):
        await one()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await database.dispose()
    return cpu / ROUNDS * 1e6, wall / ROUNDS * 1e6


CHECKS = ("none", "closed flag", "pre-ping")
REPEATS = 5  # alternating, the median counts: the machine's speed drifts


async def main(url: str) -> None:
    samples: dict[str, list[tuple[float, float]]] = {check: [] for check in CHECKS}
    for _ in range(REPEATS):
        for check in CHECKS:
            samples[check].append(await measure(url, check=check))
    print(f"{ROUNDS} checkouts + SELECT 1 each, median of {REPEATS} alternating runs:")
    print(f"{'check':<12} {'CPU us':>8} {'wall us':>8}")
    for check, runs in samples.items():
        cpu = statistics.median(run[0] for run in runs)
        wall = statistics.median(run[1] for run in runs)
        print(f"{check:<12} {cpu:8.1f} {wall:8.1f}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        asyncio.run(main(sys.argv[1]))
    else:
        import pgserver  # the embedded server, in a folder of its own

        server = pgserver.get_server(Path(tempfile.mkdtemp()), cleanup_mode="stop")
        try:
            asyncio.run(main(server.get_uri()))
        finally:
            server.cleanup()
