"""The tests run on the PostgreSQL major version RDS runs (infra.postgres_version).

What a role may do changes between majors (since 16, a CREATEROLE user gets only ADMIN
OPTION on the roles it creates), so a suite on another major proves little about a
deploy. The compatibility run (`make pytest-compat`, TEST_DATABASE_COMPAT set) runs the
database-role and migration tests on an older server on purpose.
"""

from __future__ import annotations

import os

import pgserver
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from infra.postgres_version import RDS_POSTGRES_MAJOR_VERSION


async def test_the_test_server_runs_the_major_version_rds_runs(database_url: str) -> None:
    if os.environ.get("TEST_DATABASE_COMPAT"):
        pytest.skip("the compatibility run uses an older PostgreSQL on purpose")
    engine = create_async_engine(database_url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            version_num = int(await connection.scalar(text("SHOW server_version_num")))
    finally:
        await engine.dispose()
    assert version_num // 10000 == RDS_POSTGRES_MAJOR_VERSION, (
        f"the tests' server runs PostgreSQL {version_num}, RDS {RDS_POSTGRES_MAJOR_VERSION}"
    )


def test_the_embedded_server_runs_the_major_version_rds_runs() -> None:
    """pgserver's PostgreSQL, what `make test` runs on without TEST_DATABASE_URL."""
    answer: str = pgserver.postgres(["--version"])  # "postgres (PostgreSQL) 16.2"
    version = answer.split()[-1]
    assert int(version.split(".")[0]) == RDS_POSTGRES_MAJOR_VERSION, answer
