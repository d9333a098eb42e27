"""A database that is down, restarting or not answering is a 503 `database_unavailable`
with Retry-After, in REST and GraphQL alike, and within a bounded time; a pooled
connection the server closed is replaced before a request uses it."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from core.config import Environment, PlatformSettings
from core.database.driver import reading_connection
from core.database.engine import Database
from core.database.errors import DatabaseUnavailable, caller_error
from core.database.unit_of_work import UnitOfWork
from core.web.problems import install_problem_handlers
from devstack.stack.embedded import connect

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "failure",
    [
        ConnectionRefusedError(111, "Connect call failed"),
        FileNotFoundError(2, "No such file or directory"),  # a Unix socket that is gone
        TimeoutError(),  # no answer within the connect or statement timeout
        asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
        asyncpg.AdminShutdownError("terminating connection due to administrator command"),
        asyncpg.CannotConnectNowError("the database system is starting up"),
        PoolTimeout("QueuePool limit reached, connection timed out"),
        asyncpg.InternalClientError("cannot switch to state 15; another operation is in progress"),
        DBAPIError("SELECT 1", {}, OSError("connection reset"), connection_invalidated=True),
    ],
    ids=lambda e: type(e).__name__,
)
def test_each_way_of_being_unreachable_is_database_unavailable(failure: Exception) -> None:
    assert isinstance(caller_error(failure), DatabaseUnavailable)


@pytest.mark.parametrize(
    "failure",
    [
        asyncpg.DeadlockDetectedError("deadlock detected"),
        asyncpg.SerializationError("could not serialize access due to concurrent update"),
        DBAPIError("UPDATE t", {}, asyncpg.DeadlockDetectedError("deadlock detected")),
        DBAPIError("UPDATE t", {}, asyncpg.SerializationError("could not serialize access")),
    ],
    ids=["deadlock", "serialization", "wrapped-deadlock", "wrapped-serialization"],
)
def test_a_transaction_ended_by_a_concurrent_one_is_a_retryable_503(failure: Exception) -> None:
    problem = caller_error(failure)
    assert isinstance(problem, DatabaseUnavailable)
    assert (problem.status, problem.code) == (503, "database_unavailable")
    assert problem.headers()["Retry-After"].isdigit()


def test_a_bug_is_still_a_bug() -> None:
    assert caller_error(ValueError("a bug")) is None
    assert caller_error(asyncpg.UndefinedColumnError("column x does not exist")) is None


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never says a word: a server hanging mid-handshake."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


async def test_rest_and_graphql_answer_503_within_the_connect_timeout(silent_server: int) -> None:
    settings = PlatformSettings(
        environment=Environment.TEST,
        database_url=f"postgresql://nobody@127.0.0.1:{silent_server}/none",
        database_connect_timeout_seconds=0.5,
    )
    database = Database(settings)
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/read")
    async def read() -> None:  # a GET's read, on the reads' own pool
        uow = UnitOfWork(database, reads_only=True)
        async with uow, reading_connection(uow.session) as connection:
            await connection.fetchval("SELECT 1")

    @app.get("/orm")
    async def orm() -> None:
        async with database.session() as session:
            await session.execute(text("SELECT 1"))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as http:
        for path in ("/read", "/orm"):
            started = time.monotonic()
            answer = await http.get(path)
            assert time.monotonic() - started < 2
            assert answer.status_code == 503
            assert answer.json()["code"] == "database_unavailable"
            assert answer.headers["retry-after"] == "2"
            assert answer.headers["content-type"] == "application/problem+json"
    await database.dispose()


@pytest.mark.parametrize("pool", ["read pool", "engine"])
async def test_a_connection_the_server_closed_is_replaced_at_checkout(
    database_url: str, pool: str
) -> None:
    settings = PlatformSettings(
        environment=Environment.TEST,
        database_url=database_url,
        database_pool_size=1,
        database_read_pool_size=1,
    )
    database = Database(settings)

    async def backend() -> int:
        # A GET's read takes the read pool's connection; a write's, the engine's.
        uow = UnitOfWork(database, reads_only=pool == "read pool")
        async with uow, reading_connection(uow.session) as connection:
            pid: int = await connection.fetchval("SELECT pg_backend_pid()")
            return pid

    first = await backend()
    # What a restart does to every pooled connection: the server ends it, from outside.
    admin = await connect(database_url)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
    finally:
        await admin.close()
    await asyncio.sleep(0.1)  # the loop sees the socket end, as it does between requests
    second = await backend()  # no error: the dead one was dropped at checkout
    assert second != first
    await database.dispose()
