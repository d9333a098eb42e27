"""Per-service database roles (core.aws_lambda.database_role), on a real server.

Each service connects as a login role of its own that owns its schema and has no right on
any other; only the bootstrap step, run by the service stack before its migrations, uses
the master credentials. Roles are cluster-wide, so every test names its own.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from core.aws_lambda.database_role import bootstrap_database_role, ensure_service_role
from core.config import PlatformSettings
from core.database import Database
from core.database.migrations import upgrade_services
from core.database.session_limits import SESSION_LIMITS
from core.routing import SERVICES, ServiceRoutes
from devstack.stack.bring_up import limit_sessions
from devstack.stack.services import service_dir
from devstack.testing.tokens import TestTokens
from svc_auth.app import create_app
from svc_auth.bootstrap import ensure_bootstrap_admin
from svc_auth.config import AuthSettings

SERVICE = {service.name: service for service in SERVICES}


def _host(url: URL) -> str:
    host = url.query.get("host") or url.host
    assert isinstance(host, str), url
    return host


@dataclass
class Server:
    """A database of its own, on the session's server, and the roles made for it.

    The database belongs to a master role like RDS's: it may create databases and roles,
    and is no superuser (the session's server user is one, and would hide what only a
    superuser may do).
    """

    url: str  # the master role's
    roles: list[str]

    def as_role(self, role: str) -> str:
        return make_url(self.url).set(username=role, password=None).render_as_string(False)

    @property
    def host(self) -> str:
        """A host name, or the directory of a Unix socket (the embedded server's)."""
        return _host(make_url(self.url))

    async def connect(self, url: str | None = None) -> asyncpg.Connection:
        parsed = make_url(url or self.url)
        return await asyncpg.connect(
            user=parsed.username,
            password=parsed.password,
            host=_host(parsed),
            port=parsed.port,
            database=parsed.database,
        )

    def role(self, service: str) -> str:
        name = f"svc_{service}_{uuid.uuid4().hex[:8]}"
        self.roles.append(name)
        return name

    async def ensure(
        self, service: str, role: str, session_limits: Mapping[str, str] = SESSION_LIMITS
    ) -> str:
        connection = await self.connect()
        try:
            return await ensure_service_role(
                connection,
                role=role,
                password="a password",
                schema=service,
                session_limits=session_limits,
            )
        finally:
            await connection.close()

    async def migrate(self, service: ServiceRoutes, role: str | None = None) -> None:
        engine = create_async_engine(self.as_role(role) if role else self.url, poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                await upgrade_services(connection, [service_dir(service)])
        finally:
            await engine.dispose()

    async def owners(self, schema: str) -> set[str]:
        connection = await self.connect()
        try:
            rows = await connection.fetch(
                """
                SELECT pg_get_userbyid(c.relowner) AS owner FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1
                UNION SELECT pg_get_userbyid(t.typowner) FROM pg_type t
                JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1
                UNION SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $1
                """,
                schema,
            )
        finally:
            await connection.close()
        return {row["owner"] for row in rows}


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[Server]:
    name = f"test_roles_{uuid.uuid4().hex[:12]}"
    master = f"master_{uuid.uuid4().hex[:8]}"
    url = make_url(database_url).set(database=name, username=master, password=None)
    found = Server(url.render_as_string(hide_password=False), [])
    admin = await found.connect(database_url)
    try:
        await admin.execute(f'CREATE ROLE "{master}" LOGIN CREATEROLE CREATEDB')
        await admin.execute(f'CREATE DATABASE "{name}" OWNER "{master}"')
    finally:
        await admin.close()
    found.roles.append(master)  # dropped last
    yield found
    admin = await found.connect(database_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        for role in [*found.roles[1:], master]:
            await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await admin.close()


async def test_each_service_role_owns_its_schema_and_cannot_touch_another(server: Server) -> None:
    auth, merchants = server.role("auth"), server.role("merchants")
    assert await server.ensure("auth", auth) == auth
    await server.ensure("merchants", merchants)
    # The migrations run as the service's role, as the deploy trigger runs them.
    await server.migrate(SERVICE["auth"], auth)
    await server.migrate(SERVICE["merchants"], merchants)
    assert await server.owners("auth") == {auth}
    assert await server.owners("merchants") == {merchants}
    admin = await server.connect()
    try:
        attributes = await admin.fetchrow(
            "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles"
            " WHERE rolname = $1",
            auth,
        )
    finally:
        await admin.close()
    assert tuple(attributes) == (True, False, False, False)

    connection = await server.connect(server.as_role(auth))
    try:
        assert await connection.fetchval("SELECT count(*) FROM auth.outbox") == 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.fetch("SELECT * FROM merchants.outbox")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("CREATE TABLE merchants.planted (id integer)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("CREATE ROLE escalated")
    finally:
        await connection.close()

    # Every deploy runs it again: nothing changes, nothing fails.
    await server.ensure("auth", auth)
    assert await server.owners("auth") == {auth}


async def test_each_service_role_s_sessions_carry_the_session_limits(server: Server) -> None:
    role = server.role("coupons")
    await server.ensure("coupons", role)
    await server.ensure("coupons", role)  # every deploy: the same limits, set again
    connection = await server.connect(server.as_role(role))
    try:
        shown = {name: await connection.fetchval(f"SHOW {name}") for name in SESSION_LIMITS}
    finally:
        await connection.close()
    assert shown == dict(SESSION_LIMITS)


async def test_the_local_stack_gives_its_role_the_same_limits(server: Server) -> None:
    """Locally the services connect as DATABASE_URL's role, which `make run` and `make
    migrate` limit as the bootstrap limits a deployed one."""
    role = server.role("local")
    admin = await server.connect()
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN')
    finally:
        await admin.close()
    url = server.as_role(role)

    await limit_sessions(url)

    connection = await server.connect(url)
    try:
        shown = {name: await connection.fetchval(f"SHOW {name}") for name in SESSION_LIMITS}
    finally:
        await connection.close()
    assert shown == dict(SESSION_LIMITS)
    # Only in the stack's database: the role's sessions elsewhere on the server are as they
    # were.
    elsewhere = await server.connect(make_url(url).set(database="postgres").render_as_string(False))
    try:
        assert await elsewhere.fetchval("SHOW lock_timeout") == "0"
    finally:
        await elsewhere.close()


async def test_a_frozen_transaction_holds_neither_its_waiter_nor_its_lock_for_long(
    server: Server, platform_settings: PlatformSettings, tokens: TestTokens, aws: Any
) -> None:
    """A process that stopped mid-transaction (a Lambda frozen behind the proxy) with a row
    locked: the request waiting for the row is answered 503 within the role's lock_timeout,
    and the server ends the idle transaction, and its lock, after its idle timeout. Short
    limits here, set the way the bootstrap sets the real ones."""
    role = server.role("auth")
    await server.ensure(
        "auth", role, {"lock_timeout": "300ms", "idle_in_transaction_session_timeout": "1500ms"}
    )
    await server.migrate(SERVICE["auth"], role)
    platform = platform_settings.model_copy(
        update={"database_url": SecretStr(server.as_role(role))}
    )
    database = Database(platform)
    app = create_app(
        AuthSettings(
            password_time_cost=1,
            password_memory_kib=1024,
            password_parallelism=1,
            bootstrap_admin_email="only-admin@example.com",
            bootstrap_admin_password="a long boot secret",
        ),
        platform,
        database=database,
        keys=tokens.keys,
    )
    frozen = await server.connect(server.as_role(role))
    try:
        assert await ensure_bootstrap_admin(app.state.auth)
        admin = await frozen.fetchval(
            "SELECT id FROM auth.users WHERE email = 'only-admin@example.com'"
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            revoke = f"/api/v1/auth/users/{admin}/roles/admin"
            headers = tokens.bearer(tokens.admin())
            # What revoking an admin locks first: every admin's role row.
            await frozen.execute("BEGIN")
            await frozen.fetch("SELECT * FROM auth.user_roles WHERE role = 'admin' FOR UPDATE")

            started = asyncio.get_running_loop().time()
            waiter = await http.delete(revoke, headers=headers)
            waited = asyncio.get_running_loop().time() - started
            assert waiter.status_code == 503
            assert waiter.json()["code"] == "database_unavailable"
            assert waiter.headers["retry-after"]
            assert waited < 2  # the lock_timeout, not the 15 s statement timeout

            await asyncio.sleep(2)  # past the idle timeout: the server ended the session
            with pytest.raises((asyncpg.PostgresError, asyncpg.InterfaceError)):
                await frozen.fetchval("SELECT 1")
            # The row is free: the revocation is decided (the only admin stays one).
            decided = await http.delete(revoke, headers=headers)
            assert decided.status_code == 409
            assert decided.json()["code"] == "last_admin"
    finally:
        await frozen.close()
        await database.dispose()


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.directory)
async def test_objects_made_before_the_role_existed_are_handed_over(
    server: Server, service: ServiceRoutes
) -> None:
    """A database migrated with the master credentials, as before roles per service."""
    await server.migrate(service)
    role = server.role(service.name)

    await server.ensure(service.name, role)

    assert await server.owners(service.name) == {role}
    await server.migrate(service, role)  # at head already: the role can run Alembic
    connection = await server.connect(server.as_role(role))
    try:
        await connection.execute(f"DELETE FROM {service.name}.outbox")  # noqa: S608 (route table)
    finally:
        await connection.close()


class _Secrets:
    def __init__(self, values: dict[str, dict[str, Any]]) -> None:
        self._values = values

    def get_secret_value(self, SecretId: str) -> dict[str, str]:
        return {"SecretString": json.dumps(self._values[SecretId])}


async def test_the_bootstrap_custom_resource_uses_the_master_secret(server: Server) -> None:
    role = server.role("coupons")
    parsed = make_url(server.url)
    secrets = _Secrets(
        {
            "master": {"username": parsed.username, "password": "", "dbname": parsed.database},
            "service": {"username": role, "password": "pw", "dbname": parsed.database},
        }
    )
    environ = {
        "DATABASE_MASTER_SECRET_ARN": "master",
        "DATABASE_SECRET_ARN": "service",
        "DATABASE_PROXY_ENDPOINT": server.host,
        "DATABASE_PORT": str(parsed.port or 5432),
        "DATABASE_SCHEMA": "coupons",
    }

    def run(event: dict[str, Any]) -> dict[str, Any]:
        return bootstrap_database_role(event, None, client=secrets, environ=environ, ssl=False)

    # It runs its own event loop, as in Lambda: off the test's loop.
    created = await asyncio.to_thread(run, {"RequestType": "Create"})
    assert created == {"PhysicalResourceId": "coupons-database-role", "Data": {"Role": role}}
    assert await server.owners("coupons") == {role}
    deleted = await asyncio.to_thread(
        run, {"RequestType": "Delete", "PhysicalResourceId": "coupons-database-role"}
    )
    assert deleted == {"PhysicalResourceId": "coupons-database-role"}
    assert await server.owners("coupons") == {role}  # kept: the data outlives the stack
