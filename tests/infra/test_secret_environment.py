"""What a deployed function reads from Secrets Manager at cold start, and again when the
database password changes under it (core.aws_lambda.secret_environment)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import asyncpg
import boto3
import pytest
from moto import mock_aws
from sqlalchemy import exc, make_url, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from core.aws_lambda.secret_environment import DatabaseCredentials, load_secret_environment
from core.config import PlatformSettings
from core.database.engine import asyncpg_url, read_pool

SIGNING_KEY = "coupon-platform/dev/auth-signing-key"
PREVIOUS_KEY = "coupon-platform/dev/auth-previous-signing-key"


@pytest.fixture
def secretsmanager() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def _environ(**optional: str) -> dict[str, str]:
    return {
        "SECRET_ENVIRONMENT": json.dumps({"AUTH_SIGNING_KEY": SIGNING_KEY}),
        "OPTIONAL_SECRET_ENVIRONMENT": json.dumps(optional),
    }


def test_an_absent_optional_secret_is_skipped(secretsmanager: Any) -> None:
    """svc-auth's previous signing key exists only during a rotation."""
    secretsmanager.create_secret(Name=SIGNING_KEY, SecretString="PEM")
    environ = _environ(AUTH_PREVIOUS_SIGNING_KEY=PREVIOUS_KEY)
    assert load_secret_environment(environ, client=secretsmanager) == ["AUTH_SIGNING_KEY"]
    assert "AUTH_PREVIOUS_SIGNING_KEY" not in environ


def test_a_present_optional_secret_is_read(secretsmanager: Any) -> None:
    secretsmanager.create_secret(Name=SIGNING_KEY, SecretString="NEW PEM")
    secretsmanager.create_secret(Name=PREVIOUS_KEY, SecretString="OLD PEM")
    environ = _environ(AUTH_PREVIOUS_SIGNING_KEY=PREVIOUS_KEY)
    loaded = load_secret_environment(environ, client=secretsmanager)
    assert loaded == ["AUTH_SIGNING_KEY", "AUTH_PREVIOUS_SIGNING_KEY"]
    assert environ["AUTH_PREVIOUS_SIGNING_KEY"] == "OLD PEM"


def test_an_optional_secret_scheduled_for_deletion_is_absent(secretsmanager: Any) -> None:
    """The end of a rotation: the operator deletes the previous key's secret."""
    secretsmanager.create_secret(Name=SIGNING_KEY, SecretString="PEM")
    secretsmanager.create_secret(Name=PREVIOUS_KEY, SecretString="OLD PEM")
    secretsmanager.delete_secret(SecretId=PREVIOUS_KEY, RecoveryWindowInDays=7)
    environ = _environ(AUTH_PREVIOUS_SIGNING_KEY=PREVIOUS_KEY)
    assert load_secret_environment(environ, client=secretsmanager) == ["AUTH_SIGNING_KEY"]


def test_a_required_secret_stays_required(secretsmanager: Any) -> None:
    with pytest.raises(secretsmanager.exceptions.ResourceNotFoundException):
        load_secret_environment(_environ(), client=secretsmanager)


def _credentials(password: str, username: str = "platform_admin") -> str:
    return json.dumps({"username": username, "password": password, "dbname": "coupons"})


def _database_secret(secretsmanager: Any, password: str, username: str = "platform_admin") -> str:
    arn: str = secretsmanager.create_secret(
        Name="db", SecretString=_credentials(password, username)
    )["ARN"]
    return arn


def test_the_proxy_is_reached_over_tls(secretsmanager: Any) -> None:
    """The proxy requires TLS (require_tls); asyncpg gets ssl="require"."""
    arn = _database_secret(secretsmanager, "pw")
    environ = {"DATABASE_SECRET_ARN": arn, "DATABASE_PROXY_ENDPOINT": "proxy.example"}
    assert load_secret_environment(environ, client=secretsmanager) == ["DATABASE_URL"]
    url = asyncpg_url(environ["DATABASE_URL"])
    _, connect_args = asyncpg_dialect().create_connect_args(url)
    assert connect_args["ssl"] == "require"
    assert (connect_args["host"], connect_args["port"]) == ("proxy.example", 5432)


class _PasswordCheckingServer:
    """Stands in for the proxy's password check (the test server trusts every password),
    refusing as SQLAlchemy's asyncpg dialect reports it: asyncpg's error, translated."""

    def __init__(self, dialect: Any, password: str) -> None:
        self._dialect = dialect
        self._connect = dialect.connect
        self.password = password
        self.attempts: list[str] = []

    def __call__(self, *cargs: Any, **cparams: Any) -> Any:
        self.attempts.append(cparams["password"])
        if cparams["password"] != self.password:
            refused = asyncpg.InvalidPasswordError("password authentication failed")
            raise self._dialect.loaded_dbapi.Error(str(refused), refused)
        return self._connect(*cargs, **cparams)


async def test_a_rotated_password_is_read_again_on_the_next_connection(
    secretsmanager: Any, database_url: str
) -> None:
    server_url = make_url(database_url)
    assert server_url.username is not None
    arn = _database_secret(secretsmanager, "old password", server_url.username)
    engine = create_async_engine(database_url, poolclass=NullPool)
    # The host as the dialect passes it to asyncpg: a name, or a Unix socket's directory
    # (the URL's `host=` query), as the embedded server is reached.
    _, connect_params = engine.sync_engine.dialect.create_connect_args(engine.url)
    credentials = DatabaseCredentials(secretsmanager, arn, host=connect_params["host"])
    server = _PasswordCheckingServer(engine.sync_engine.dialect, "old password")
    engine.sync_engine.dialect.connect = server  # type: ignore[method-assign]
    credentials.install(engine.sync_engine)
    try:
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1

        # Rotated: the secret and the server have the new password; this process does not.
        secretsmanager.put_secret_value(
            SecretId=arn, SecretString=_credentials("new password", server_url.username)
        )
        server.password = "new password"
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT 1")) == 1
        assert server.attempts == ["old password", "old password", "new password"]

        # A refusal the secret cannot explain (unchanged) is not retried.
        server.password = "someone else's"
        with pytest.raises(exc.DBAPIError, match="password authentication failed"):
            async with engine.connect() as connection:
                await connection.scalar(text("SELECT 1"))
        assert server.attempts[-1] == "new password"
    finally:
        credentials.uninstall(engine.sync_engine)
        await engine.dispose()


async def test_the_reads_pool_reads_a_rotated_password_again_too(
    secretsmanager: Any, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GETs' reads connect through their own asyncpg pool (core.database.reads), not
    SQLAlchemy's engine: the same re-read of the secret applies there."""
    url = make_url(database_url)
    assert url.username is not None
    host = url.host or url.query.get("host")
    assert isinstance(host, str)
    arn = _database_secret(secretsmanager, "old password", url.username)
    credentials = DatabaseCredentials(secretsmanager, arn, host=host)
    attempts: list[str] = []
    server_password = "old password"
    real_connect = asyncpg.connect

    async def password_checking_connect(*args: Any, **kwargs: Any) -> asyncpg.Connection:
        attempts.append(kwargs["password"])
        if kwargs["password"] != server_password:
            raise asyncpg.InvalidPasswordError("password authentication failed")
        return await real_connect(*args, **{**kwargs, "password": None})

    monkeypatch.setattr(asyncpg, "connect", password_checking_connect)
    reads = read_pool(PlatformSettings(database_read_pool_size=1), url)
    credentials.install()
    try:
        async with reads.connection() as connection:
            assert await connection.fetchval("SELECT 1") == 1
            connection.terminate()  # the next read opens a new connection

        secretsmanager.put_secret_value(
            SecretId=arn, SecretString=_credentials("new password", url.username)
        )
        server_password = "new password"
        async with reads.connection() as connection:
            assert await connection.fetchval("SELECT 1") == 1
        assert attempts == ["old password", "old password", "new password"]
    finally:
        credentials.uninstall()
        await reads.close()
