"""What a deployed function reads from Secrets Manager: its secret environment variables at
cold start, and the database credentials again when the proxy refuses a rotated password."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect
    from sqlalchemy.pool import ConnectionPoolEntry

logger = logging.getLogger(__name__)

SECRET_ENVIRONMENT = "SECRET_ENVIRONMENT"
"""JSON object naming, for each environment variable, the Secrets Manager secret holding it."""
OPTIONAL_SECRET_ENVIRONMENT = "OPTIONAL_SECRET_ENVIRONMENT"
"""The same, for secrets that may not exist (svc-auth's previous signing key): skipped when
absent, scheduled for deletion, or empty."""
_ABSENT_SECRET_ERRORS = ("ResourceNotFoundException", "InvalidRequestException")
# What PostgreSQL (and RDS Proxy) answer to a wrong password, or a user it does not know.
_AUTHENTICATION_FAILED = ("28P01", "28000")

DATABASE_PROXY_ENDPOINT = "DATABASE_PROXY_ENDPOINT"
RDS_PROXY_POSTGRES_PORT = 5432  # an RDS Proxy listens on 5432 whatever the instance's port


def load_secret_environment(
    environ: MutableMapping[str, str] | None = None, client: Any = None
) -> list[str]:
    """Fill environment variables from Secrets Manager before the settings are read.

    Deployed functions get `SECRET_ENVIRONMENT` (variable name -> secret id) instead of the
    secret values themselves, which would otherwise be readable in the function's
    configuration; `OPTIONAL_SECRET_ENVIRONMENT` names secrets that may be absent. With
    `DATABASE_SECRET_ARN` and `DATABASE_PROXY_ENDPOINT`, DATABASE_URL is built from the
    database secret's credentials and the proxy's address, with TLS required: the secret
    names the instance's host, and the functions must connect through the proxy. Then,
    should the proxy refuse the password (the secret was rotated), a new connection reads
    the secret again (DatabaseCredentials). Variables that are already set win. Returns
    the names it set; does nothing (and imports nothing) when neither is configured, as
    locally and in tests.
    """
    environ = os.environ if environ is None else environ
    wanted: dict[str, str] = json.loads(environ.get(SECRET_ENVIRONMENT) or "{}")
    wanted = {name: secret for name, secret in wanted.items() if not environ.get(name)}
    optional: dict[str, str] = json.loads(environ.get(OPTIONAL_SECRET_ENVIRONMENT) or "{}")
    optional = {name: secret for name, secret in optional.items() if not environ.get(name)}
    proxy = environ.get(DATABASE_PROXY_ENDPOINT)
    database_secret = environ.get("DATABASE_SECRET_ARN")
    through_proxy = bool(proxy and database_secret and not environ.get("DATABASE_URL"))
    if not wanted and not optional and not through_proxy:
        return []
    if client is None:
        import boto3  # only deployed functions get here

        client = boto3.client("secretsmanager")
    loaded: list[str] = []
    for name, secret_id in wanted.items():
        environ[name] = client.get_secret_value(SecretId=secret_id)["SecretString"]
        loaded.append(name)
    for name, secret_id in optional.items():
        value = _optional_secret(client, secret_id)
        if value:
            environ[name] = value
            loaded.append(name)
        else:
            logger.info("optional secret %s is absent: %s left unset", secret_id, name)
    if through_proxy:
        assert proxy
        assert database_secret
        credentials = DatabaseCredentials(client, database_secret, host=proxy)
        environ["DATABASE_URL"] = credentials.url()
        credentials.install()
        loaded.append("DATABASE_URL")
    return loaded


def _optional_secret(client: Any, secret_id: str) -> str | None:
    try:
        value: str = client.get_secret_value(SecretId=secret_id)["SecretString"]
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code")
        if code in _ABSENT_SECRET_ERRORS:  # never created, or deleted and not yet purged
            return None
        raise
    return value


class DatabaseCredentials:
    """The database secret behind the proxy, read again when the proxy refuses it.

    Functions read the credentials at cold start; a warm one keeps its connection open
    across a password change, but every new connection (after pool_recycle, or a dropped
    one) would fail until the execution environment is replaced. Installed as SQLAlchemy's
    `do_connect` hook for connections to the proxy: a connection refused for its password
    re-reads the secret and, when the password in it has changed, connects again with it.
    """

    def __init__(self, client: Any, secret_id: str, *, host: str) -> None:
        self._client = client
        self._secret_id = secret_id
        self.host = host
        self._credentials = self._read()

    def _read(self) -> dict[str, Any]:
        secret: dict[str, Any] = json.loads(
            self._client.get_secret_value(SecretId=self._secret_id)["SecretString"]
        )
        return secret

    def url(self) -> str:
        from sqlalchemy import URL

        credentials = self._credentials
        return URL.create(
            "postgresql",
            username=credentials["username"],
            password=credentials["password"],
            host=self.host,
            port=RDS_PROXY_POSTGRES_PORT,
            database=credentials.get("dbname", "postgres"),
            # asyncpg: encrypt, as the proxy requires (its require_tls); the proxy's
            # certificate is not pinned.
            query={"ssl": "require"},
        ).render_as_string(hide_password=False)

    def refresh(self) -> bool:
        """Read the secret again; whether its password changed."""
        previous = self._credentials["password"]
        self._credentials = self._read()
        return bool(self._credentials["password"] != previous)

    def connect(
        self,
        dialect: Dialect,
        record: ConnectionPoolEntry,
        cargs: tuple[Any, ...],
        cparams: dict[str, Any],
    ) -> Any:
        """SQLAlchemy's do_connect hook. None: not a connection to the proxy, the default
        connect applies."""
        if cparams.get("host") != self.host:
            return None
        cparams.update(self._login())
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception as exc:
            if not self._rotated_since(exc):
                raise
            cparams.update(self._login())
            return dialect.connect(*cargs, **cparams)

    async def connect_driver(self, *args: Any, **kwargs: Any) -> Any:
        """The reads' own pool's connect (core.database.reads.connect_reads_through), called
        as asyncpg.connect is: the same re-read of a rotated password as `connect`."""
        import asyncpg  # only deployed functions get here

        if kwargs.get("host") != self.host:
            return await asyncpg.connect(*args, **kwargs)
        try:
            return await asyncpg.connect(*args, **(kwargs | self._login()))
        except Exception as exc:
            if not self._rotated_since(exc):
                raise
            return await asyncpg.connect(*args, **(kwargs | self._login()))

    def _rotated_since(self, refused: Exception) -> bool:
        """Whether a connection refused with `refused` may be tried again: its password
        was refused, and the secret holds another one now."""
        if getattr(refused, "sqlstate", None) not in _AUTHENTICATION_FAILED:
            return False
        if not self.refresh():
            return False
        logger.warning("the database refused its password: connecting with the rotated one")
        return True

    def _login(self) -> dict[str, str]:
        return {"user": self._credentials["username"], "password": self._credentials["password"]}

    def install(self, target: Any = None) -> None:
        """On every engine of the process and on its reads' pools (the default), or on one
        engine."""
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        from core.database.reads import connect_reads_through

        event.listen(Engine if target is None else target, "do_connect", self.connect)
        if target is None:
            connect_reads_through(self.connect_driver)

    def uninstall(self, target: Any = None) -> None:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        from core.database.reads import connect_reads_through

        event.remove(Engine if target is None else target, "do_connect", self.connect)
        if target is None:
            connect_reads_through(None)
