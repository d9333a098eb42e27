"""X-Ray subsegments without the SDK: what is sent to the daemon, and what never is."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool, Pool

from core.config import PlatformSettings
from core.database import reads as reads_module
from core.database.engine import read_pool
from core.tracing import current_trace, subsegment
from core.tracing import database as traced_database
from devstack.testing.xray import SAMPLED_TRACE, XRayDaemon, sampled_invocation

SECRET_CODE = "SECRET-CODE-42"


@pytest.fixture
def daemon(monkeypatch: pytest.MonkeyPatch) -> Iterator[XRayDaemon]:
    with sampled_invocation(monkeypatch) as listening:
        yield listening


def test_outside_lambda_there_is_no_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    assert current_trace() is None
    with subsegment("DynamoDB") as span:
        span["ignored"] = True


def test_a_sampled_invocation_sends_its_subsegments(daemon: XRayDaemon) -> None:
    trace = current_trace()
    assert trace is not None
    assert (trace.trace_id, trace.parent_id, trace.sampled) == (
        "1-5759e988-bd862e3fe1be46a994272793",
        "53995c3f42cd8ad8",
        True,
    )
    with subsegment("DynamoDB", namespace="aws", aws={"operation": "PutItem"}):
        pass
    with pytest.raises(RuntimeError), subsegment("svc-merchants"):
        raise RuntimeError("unreachable")
    dynamo, merchants = daemon.received()
    assert dynamo["type"] == "subsegment"
    assert (dynamo["trace_id"], dynamo["parent_id"]) == (trace.trace_id, trace.parent_id)
    assert (dynamo["name"], dynamo["namespace"], dynamo["aws"]) == (
        "DynamoDB",
        "aws",
        {"operation": "PutItem"},
    )
    assert dynamo["start_time"] <= dynamo["end_time"]
    assert len(dynamo["id"]) == 16
    assert "fault" not in dynamo
    assert merchants["fault"] is True


def test_an_unsampled_invocation_sends_nothing(
    daemon: XRayDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("_X_AMZN_TRACE_ID", SAMPLED_TRACE.replace("Sampled=1", "Sampled=0"))
    with subsegment("DynamoDB"):
        pass
    assert daemon.received() == []


@pytest.fixture
def traced_statements() -> Iterator[None]:
    traced_database.trace_database()
    yield
    event.remove(Engine, "before_cursor_execute", traced_database._before_cursor_execute)
    event.remove(Engine, "after_cursor_execute", traced_database._after_cursor_execute)
    event.remove(Pool, "connect", traced_database._on_connect)
    reads_module._CONNECTION_HOOKS.remove(traced_database._on_read_connection)
    traced_database._installed = False


@pytest.mark.integration
async def test_statements_are_subsegments_without_their_sql_or_values(
    daemon: XRayDaemon, traced_statements: None, database_url: str
) -> None:
    """SQLAlchemy's statements, and those run on the driver connection (the hot paths),
    the session's or the reads' own pool's."""
    engine = create_async_engine(database_url, poolclass=NullPool)
    reads = read_pool(PlatformSettings(database_read_pool_size=1), make_url(database_url))
    try:
        async with reads.connection() as connection:
            await connection.fetchrow("VALUES (1)")
        async with engine.connect() as connection:
            await connection.execute(text("SELECT :code AS code"), {"code": SECRET_CODE})
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.fetchrow(
                "WITH found AS (SELECT $1::text AS code) SELECT * FROM found", SECRET_CODE
            )
    finally:
        await reads.close()
        await engine.dispose()
    documents = daemon.received()
    statements = [d["metadata"]["default"]["statement"] for d in documents]
    assert {d["name"] for d in documents} == {"PostgreSQL"}
    assert "SELECT" in statements
    assert "WITH" in statements
    assert "VALUES" in statements  # the read pool's
    assert SECRET_CODE not in json.dumps(documents)
    assert "found" not in json.dumps(documents)
