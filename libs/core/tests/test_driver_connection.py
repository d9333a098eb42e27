"""The driver connection runs inside the unit of work's transaction, and its refusals
reach the caller as the same problems SQLAlchemy's would.

The first test pins the one private method of SQLAlchemy's asyncpg adapter that
`driver_connection` relies on: if an upgrade changes it, this fails instead of statements
quietly running outside their transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from core.config import Environment, PlatformSettings
from core.database.driver import READ_POOL, READS_ONLY, driver_connection, reading_connection
from core.database.engine import Database, read_pool
from core.database.errors import DatabaseUnavailable, caller_error
from core.database.reads import ReadPool
from core.database.unit_of_work import UnitOfWork
from core.errors import Conflict, InvalidInput
from core.web.problems import install_problem_handlers
from core.web.routes import get_unit_of_work, service_router

# The read pool's: one connection, waited for half a second at most.
SETTINGS = PlatformSettings(database_read_pool_size=1, database_pool_timeout_seconds=0.5)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url, pool_size=1, max_overflow=0)
    async with engine.begin() as connection:
        await connection.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS driver_probe (id int PRIMARY KEY, note text)"
        )
        await connection.exec_driver_sql("TRUNCATE driver_probe")
    yield engine
    async with engine.begin() as connection:
        await connection.exec_driver_sql("DROP TABLE driver_probe")
    await engine.dispose()


async def _count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        result = await connection.exec_driver_sql("SELECT count(*) FROM driver_probe")
        count: int = result.scalar_one()
        return count


async def test_a_first_statement_on_the_driver_is_rolled_back_with_the_session(
    engine: AsyncEngine,
) -> None:
    async with AsyncSession(engine) as session:
        driver = await driver_connection(session)
        await driver.execute("INSERT INTO driver_probe VALUES (1, 'rolled back')")
        assert driver.is_in_transaction()
        await session.rollback()
    assert await _count(engine) == 0

    async with AsyncSession(engine) as session:
        driver = await driver_connection(session)
        await driver.execute("INSERT INTO driver_probe VALUES (2, 'kept')")
        # The session's own statements share the transaction.
        await session.connection()
        assert (await driver_connection(session)) is driver
        await session.commit()
    assert await _count(engine) == 1


async def test_the_driver_connection_is_found_again_only_within_its_transaction(
    engine: AsyncEngine,
) -> None:
    """Found once per transaction (one greenlet hop), then from the session's info; after
    a commit the next statement begins a transaction of its own again."""
    async with AsyncSession(engine) as session:
        first = await driver_connection(session)
        assert await driver_connection(session) is first
        await first.execute("INSERT INTO driver_probe VALUES (5, 'committed')")
        await session.commit()
        assert not first.is_in_transaction()

        again = await driver_connection(session)
        assert again.is_in_transaction()
        await again.execute("INSERT INTO driver_probe VALUES (6, 'rolled back')")
        await session.rollback()
    assert await _count(engine) == 1


async def test_driver_refusals_are_the_callers_errors(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as session:
        driver = await driver_connection(session)
        with pytest.raises(asyncpg.PostgresError) as nul:
            await driver.execute("INSERT INTO driver_probe VALUES (3, $1)", "a\x00b")
        assert isinstance(caller_error(nul.value), InvalidInput)
        await session.rollback()

    async with AsyncSession(engine) as session:
        driver = await driver_connection(session)
        await driver.execute("INSERT INTO driver_probe VALUES (4, 'first')")
        with pytest.raises(asyncpg.UniqueViolationError) as taken:
            await driver.execute("INSERT INTO driver_probe VALUES (4, 'again')")
        assert isinstance(caller_error(taken.value), Conflict)
        await session.rollback()


async def test_a_driver_refusal_is_answered_as_a_problem() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/integrity")
    async def integrity() -> None:
        raise asyncpg.UniqueViolationError("duplicate key value violates unique constraint")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/integrity")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "conflict"


async def test_a_reads_only_session_reads_without_a_transaction(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as session:
        session.info[READS_ONLY] = True
        driver = await driver_connection(session)
        assert await driver.fetchval("SELECT count(*) FROM driver_probe") == 0
        assert not driver.is_in_transaction()
        await session.commit()


async def test_get_routes_run_in_a_reads_only_unit_of_work() -> None:
    kinds: list[tuple[str, bool]] = []

    class Runtime:
        def unit_of_work(self, *, reads_only: bool = False) -> UnitOfWork:
            return UnitOfWork(Database(PlatformSettings()), reads_only=reads_only)

    router = service_router()

    @router.get("/thing")
    async def read(request: Request) -> dict[str, str]:
        kinds.append(("GET", get_unit_of_work(request).reads_only))
        return {}

    @router.post("/thing")
    async def write(request: Request) -> dict[str, str]:
        kinds.append(("POST", get_unit_of_work(request).reads_only))
        return {}

    app = FastAPI()
    app.state.runtime = Runtime()
    app.include_router(router)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/thing")).status_code == 200
        assert (await client.post("/thing")).status_code == 200
    assert kinds == [("GET", True), ("POST", False)]


@pytest.fixture
async def reads(database_url: str) -> AsyncIterator[ReadPool]:
    pool = read_pool(SETTINGS, make_url(database_url), ping_idle=False)
    yield pool
    await pool.close()


def _reads_only(session: AsyncSession, reads: ReadPool) -> AsyncSession:
    """What a reads-only unit of work makes of its session."""
    session.info[READS_ONLY] = True
    session.info[READ_POOL] = reads
    return session


async def test_a_read_of_a_reads_only_session_takes_a_connection_of_the_read_pool(
    engine: AsyncEngine, reads: ReadPool
) -> None:
    async with AsyncSession(engine) as session:
        _reads_only(session, reads)
        async with reading_connection(session) as connection:
            assert await connection.fetchval("SELECT count(*) FROM driver_probe") == 0
            assert not connection.is_in_transaction()
            assert engine.sync_engine.pool.checkedout() == 0  # SQLAlchemy's is not touched
        # Back at once (the pool has one connection), and the session never began anything.
        async with reading_connection(session) as again:
            assert await again.fetchval("SELECT 1") == 1
        assert not session.in_transaction()


async def test_the_read_pool_reads_its_server_url_as_the_engine_does(database_url: str) -> None:
    """Deployed URLs carry `?ssl=require` (and the embedded server's a socket in `?host=`):
    taken as a DSN, asyncpg would send `ssl` to the server as a setting, and be refused."""
    url = make_url(database_url).update_query_dict({"ssl": "disable"})
    pool = read_pool(SETTINGS, url, ping_idle=False)
    try:
        async with pool.connection() as connection:
            assert await connection.fetchval("SELECT 1") == 1
    finally:
        await pool.close()


async def test_a_unit_of_work_that_reads_only_hands_its_reads_the_read_pool(
    database_url: str,
) -> None:
    database = Database(PlatformSettings(environment=Environment.TEST, database_url=database_url))
    async with UnitOfWork(database, reads_only=True) as uow:
        assert uow.session.info[READ_POOL] is database.reads
    async with UnitOfWork(database) as uow:
        assert READ_POOL not in uow.session.info
    await database.dispose()


async def test_a_read_in_a_transaction_uses_the_sessions_connection(
    engine: AsyncEngine, reads: ReadPool
) -> None:
    async with AsyncSession(engine) as session:
        _reads_only(session, reads)
        await session.connection()  # the session began: its reads see its own writes
        own = await driver_connection(session)
        async with reading_connection(session) as connection:
            assert connection is own
        await session.rollback()


async def test_without_a_read_pool_a_read_uses_the_sessions_connection(
    engine: AsyncEngine,
) -> None:
    """Tests bind every session to one connection (ConnectionBoundDatabase has no read
    pool): their reads must see the test's uncommitted rows."""
    async with AsyncSession(engine) as session:
        session.info[READS_ONLY] = True
        async with reading_connection(session) as connection:
            assert connection is await driver_connection(session)
            assert not connection.is_in_transaction()
        await session.rollback()


async def test_a_connection_lost_during_a_read_does_not_go_back_to_the_pool(
    engine: AsyncEngine, reads: ReadPool
) -> None:
    async with AsyncSession(engine) as session:
        _reads_only(session, reads)
        async with reading_connection(session) as connection:
            first = connection.get_server_pid()
        with pytest.raises(asyncpg.InterfaceError):
            async with reading_connection(session) as connection:
                raise asyncpg.InterfaceError("connection lost")
        async with reading_connection(session) as connection:  # a fresh one, no error
            assert await connection.fetchval("SELECT 1") == 1
            assert connection.get_server_pid() != first


async def test_reads_wait_their_turn_first_come_first_served(reads: ReadPool) -> None:
    """One connection, three reads at once: they are served in the order they came, and a
    read that cannot get a connection within the pool timeout fails as unavailable."""
    served: list[int] = []

    async def read(number: int, hold: float) -> None:
        async with reads.connection() as connection:
            served.append(number)
            await connection.fetchval("SELECT pg_sleep($1)", hold)

    first = asyncio.create_task(read(1, 0.2))
    await asyncio.sleep(0.05)
    waiting = [asyncio.create_task(read(n, 0.0)) for n in (2, 3)]
    await asyncio.gather(first, *waiting)
    assert served == [1, 2, 3]

    with pytest.raises(TimeoutError) as waited:
        await asyncio.gather(read(4, 1.0), read(5, 0.0))
    assert isinstance(caller_error(waited.value), DatabaseUnavailable)
