"""svc-auth's Lambda handler (main.py), invoked with real AWS event shapes against PostgreSQL.

The handler runs as deployed: Mangum for API Gateway HTTP API requests, the consumers for
EventBridge events, the outbox sweep on schedule, migrations from the deploy trigger.
Migrations and sweeps run against a database of their own, empty until the handler
migrates it, so that what they change can be seen.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from core.aws_lambda import OutboxDeliveryFailed, UnknownEventError
from core.events.model import DomainEvent
from core.runtime import ChoresFailed
from devstack.stack.embedded import connect
from devstack.testing.lambda_harness import (
    LambdaContext,
    LambdaHarness,
    eventbridge_event,
    http_event,
    http_response_json,
    lambda_harness,
    scheduled_event,
)
from devstack.testing.tokens import TestTokens

MAIN_PY = Path(__file__).resolve().parents[2] / "main.py"
PASSWORD = "correct horse battery"
BOOTSTRAP_PASSWORD = "a long bootstrap password"

pytestmark = pytest.mark.integration


@pytest.fixture
def bootstrap_email() -> str:
    return f"admin-{uuid.uuid4().hex[:8]}@example.com"


@pytest.fixture
def environment(
    database_url: str, tokens: TestTokens, tmp_path: Path, bootstrap_email: str
) -> dict[str, str]:
    """What a deployment gives main.py, its secrets already resolved."""
    return {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "DATABASE_POOL_SIZE": "1",
        "DATABASE_MAX_OVERFLOW": "1",
        "JWT_ISSUER": tokens.issuer,
        "JWT_AUDIENCE": tokens.audience,
        "JWT_JWKS": json.dumps(tokens.keys.jwks()),
        "LOCAL_STATE_DIR": str(tmp_path),
        "AUDIT_TABLE": "test-audit",
        "CACHE_TABLE": "test-cache",
        "AUTH_SIGNING_KEY": tokens.keys.current.to_pem(),
        "AUTH_PASSWORD_TIME_COST": "1",
        "AUTH_PASSWORD_MEMORY_KIB": "1024",
        "AUTH_PASSWORD_PARALLELISM": "1",
        "BOOTSTRAP_ADMIN_EMAIL": bootstrap_email,
        "BOOTSTRAP_ADMIN_PASSWORD": BOOTSTRAP_PASSWORD,
    }


@pytest.fixture
def lambda_(
    migrated_engine: AsyncEngine, environment: dict[str, str], aws: Any
) -> Iterator[LambdaHarness]:
    """main.py on the session's database, which the migrations built already."""
    with lambda_harness(MAIN_PY, environment) as harness:
        yield harness


def sql(url: str, statement: str, *args: Any) -> list[asyncpg.Record]:
    """One statement on its own connection, committed (the tests themselves are sync)."""

    async def run() -> list[asyncpg.Record]:
        connection = await connect(url)
        try:
            rows: list[asyncpg.Record] = await connection.fetch(statement, *args)
            return rows
        finally:
            await connection.close()

    return asyncio.run(run())


def auth_tables(url: str) -> set[str]:
    rows = sql(url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'auth'")
    return {row["table_name"] for row in rows}


def auth_revision(url: str) -> str:
    (row,) = sql(url, "SELECT version_num FROM auth.alembic_version")
    return str(row["version_num"])


def head_revision(alembic_ini: Path) -> str:
    head = ScriptDirectory.from_config(Config(str(alembic_ini))).get_current_head()
    assert head is not None
    return head


@pytest.fixture
def fresh_lambda(
    empty_database_url: str, environment: dict[str, str], aws: Any
) -> Iterator[LambdaHarness]:
    """main.py on an empty database: what the first deploy finds."""
    with lambda_harness(MAIN_PY, {**environment, "DATABASE_URL": empty_database_url}) as harness:
        yield harness


def register(lambda_: LambdaHarness) -> dict[str, Any]:
    email = f"user-{uuid.uuid4().hex[:8]}@example.com"
    response = lambda_.invoke(
        http_event(
            "POST",
            "/api/v1/auth/register",
            json_body={"email": email, "password": PASSWORD, "display_name": "Lambda"},
        )
    )
    assert response["statusCode"] == 201, response
    user: dict[str, Any] = http_response_json(response)
    return user


def login(lambda_: LambdaHarness, email: str, password: str = PASSWORD) -> str:
    response = lambda_.invoke(
        http_event(
            "POST",
            "/api/v1/auth/token",
            form={
                "grant_type": "password",
                "username": email,
                "password": password,
                "client_id": "customer-portal",
            },
        )
    )
    assert response["statusCode"] == 200, response
    token: str = http_response_json(response)["access_token"]
    return token


def me(lambda_: LambdaHarness, token: str) -> dict[str, Any]:
    response = lambda_.invoke(
        http_event("GET", "/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    )
    assert response["statusCode"] == 200, response
    body: dict[str, Any] = http_response_json(response)
    return body


def test_rest_request_answers_with_status_headers_and_body(lambda_: LambdaHarness) -> None:
    context = LambdaContext()
    email = f"rest-{uuid.uuid4().hex[:8]}@example.com"
    response = lambda_.invoke(
        http_event(
            "POST",
            "/api/v1/auth/register",
            json_body={"email": email.upper(), "password": PASSWORD, "display_name": "Rest"},
        ),
        context,
    )
    assert response["statusCode"] == 201
    assert response["headers"]["content-type"] == "application/json"
    # The request id of the logs is Lambda's, so a log line leads to its invocation.
    assert response["headers"]["x-request-id"] == context.aws_request_id
    user = http_response_json(response)
    assert user["email"] == email
    assert user["roles"] == ["customer"]

    token = login(lambda_, email)
    assert me(lambda_, token)["id"] == user["id"]


def test_graphql_request(lambda_: LambdaHarness) -> None:
    user = register(lambda_)
    token = login(lambda_, user["email"])
    response = lambda_.invoke(
        http_event(
            "POST",
            "/graphql/auth",
            headers={"Authorization": f"Bearer {token}"},
            json_body={"query": "{ me { id email roles } }"},
        )
    )
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"].startswith("application/json")
    body = http_response_json(response)
    assert "errors" not in body, body
    assert body["data"]["me"] == {"id": user["id"], "email": user["email"], "roles": ["CUSTOMER"]}


@pytest.fixture
def limited_lambda(
    migrated_engine: AsyncEngine, environment: dict[str, str], aws: Any
) -> Iterator[LambdaHarness]:
    limits = {"AUTH_REGISTER_PER_ADDRESS": "3", "AUTH_TOKEN_PER_ADDRESS": "4"}
    with lambda_harness(MAIN_PY, environment | limits) as harness:
        yield harness


def test_limits_count_api_gateways_source_ip_not_a_forwarding_header(
    limited_lambda: LambdaHarness,
) -> None:
    client, neighbour = "198.51.100.7", "198.51.100.8"
    forged = (f"203.0.113.{n}" for n in range(1, 100))

    def sign_up(source_ip: str, path: str = "/api/v1/auth/register") -> Any:
        account = {"email": f"edge-{uuid.uuid4().hex[:8]}@example.com", "password": PASSWORD}
        body: dict[str, Any] = {**account, "display_name": "Edge"}
        if path.startswith("/graphql"):
            body = {
                "query": "mutation ($input: RegisterUserInput!) "
                "{ registerUser(input: $input) { id } }",
                "variables": {"input": {**account, "displayName": "Edge"}},
            }
        return limited_lambda.invoke(
            http_event(
                "POST",
                path,
                json_body=body,
                headers={"X-Forwarded-For": next(forged)},
                source_ip=source_ip,
            )
        )

    def token(source_ip: str) -> Any:
        return limited_lambda.invoke(
            http_event(
                "POST",
                "/api/v1/auth/token",
                form={"grant_type": "client_credentials", "client_id": "nobody"},
                headers={"X-Forwarded-For": next(forged)},
                source_ip=source_ip,
            )
        )

    assert [sign_up(client)["statusCode"] for _ in range(4)] == [201, 201, 201, 429]
    graphql = http_response_json(sign_up(client, "/graphql/auth"))
    assert graphql["errors"][0]["extensions"]["code"] == "too_many_requests"
    assert sign_up(neighbour)["statusCode"] == 201

    assert [token(client)["statusCode"] for _ in range(5)] == [401, 401, 401, 401, 429]
    assert token(neighbour)["statusCode"] == 401


def test_unknown_path_is_a_problem_404(lambda_: LambdaHarness) -> None:
    response = lambda_.invoke(http_event("GET", "/api/v1/auth/no-such-thing"))
    assert response["statusCode"] == 404
    assert response["headers"]["content-type"] == "application/problem+json"
    body = http_response_json(response)
    assert body["status"] == 404
    assert body["code"]


def test_bad_token_is_a_problem_401(lambda_: LambdaHarness) -> None:
    response = lambda_.invoke(
        http_event("GET", "/api/v1/auth/me", headers={"Authorization": "Bearer not.a.token"})
    )
    assert response["statusCode"] == 401
    assert response["headers"]["content-type"] == "application/problem+json"
    assert "bearer" in response["headers"]["www-authenticate"].lower()
    assert http_response_json(response)["status"] == 401


def test_consumed_event_is_processed_once(lambda_: LambdaHarness, database_url: str) -> None:
    user = register(lambda_)
    merchant_id = str(uuid.uuid4())
    verified = DomainEvent(
        type="merchant.verified",
        entity_type="merchant",
        entity_id=merchant_id,
        actor="admin",
        data={"merchant_id": merchant_id, "owner_user_id": user["id"]},
        source="merchants",
        correlation_id="Xk3fJhT-IAMEV8Q=",  # the request svc-merchants verified it in
    )
    event = eventbridge_event(
        "merchant.verified", "coupon-platform.merchants", verified.to_message()
    )

    first = lambda_.invoke(event)
    again = lambda_.invoke(event)  # EventBridge delivers at least once

    assert first == {"event_id": str(verified.id), "type": "merchant.verified", "processed": True}
    assert again["processed"] is False
    memberships = me(lambda_, login(lambda_, user["email"]))["memberships"]
    assert [(m["merchant_id"], m["role"]) for m in memberships] == [(merchant_id, "owner")]
    # What the consumer's effect wrote was delivered by the same invocation, not left for
    # the sweep: a consumer's unit of work hands its events to the relay too.
    written = sql(
        database_url,
        "SELECT delivered_at, correlation_id FROM auth.outbox WHERE entity_id = $1",
        merchant_id,
    )
    assert written
    assert all(row["delivered_at"] is not None for row in written)
    # ...and belongs to the request that caused the event, in the other service.
    assert {row["correlation_id"] for row in written} == {"Xk3fJhT-IAMEV8Q="}


def test_events_are_delivered_before_the_invocation_returns(
    migrated_engine: AsyncEngine, environment: dict[str, str], database_url: str, aws: Any
) -> None:
    """Lambda freezes the environment after answering: background delivery would never run,
    so the handler delivers inline even when the settings ask for background."""
    with lambda_harness(MAIN_PY, {**environment, "EVENT_DELIVERY": "background"}) as harness:
        assert harness.module.platform.event_delivery == "background"
        user = register(harness)

        (row,) = sql(database_url, "SELECT * FROM auth.outbox WHERE entity_id = $1", user["id"])
        assert row["delivered_at"] is not None
        audited = aws.scan(TableName="test-audit")["Items"]
        assert row["id"] in {uuid.UUID(item["event_id"]["S"]) for item in audited}


def test_event_nobody_consumes_is_refused(lambda_: LambdaHarness) -> None:
    event = eventbridge_event("coupon.redeemed", "coupon-platform.coupons", {"event_id": "x"})
    with pytest.raises(UnknownEventError, match=r"coupon\.redeemed"):
        lambda_.invoke(event)


def insert_outbox_event(url: str, *, age: timedelta) -> uuid.UUID:
    """An event a request wrote and its after-commit delivery never sent."""
    event_id = uuid.uuid4()
    sql(
        url,
        "INSERT INTO auth.outbox (id, type, entity_type, entity_id, actor, occurred_at, data)"
        " VALUES ($1, 'user.registered', 'user', $2, NULL, $3, $4)",
        event_id,
        str(uuid.uuid4()),
        datetime.now(UTC) - age,
        json.dumps({"email": "swept@example.com"}),
    )
    return event_id


def test_scheduled_event_sweeps_what_delivery_left_behind(
    fresh_lambda: LambdaHarness, empty_database_url: str, aws: Any
) -> None:
    assert fresh_lambda.invoke({"action": "migrate"}) == {"migrated": "auth"}
    left_behind = insert_outbox_event(empty_database_url, age=timedelta(minutes=2))
    insert_outbox_event(empty_database_url, age=timedelta(seconds=1))  # still in flight

    assert fresh_lambda.invoke(scheduled_event()) == {"swept": 1}

    (row,) = sql(empty_database_url, "SELECT * FROM auth.outbox WHERE id = $1", left_behind)
    assert row["delivered_at"] is not None
    audited = aws.scan(TableName="test-audit")["Items"]
    assert str(left_behind) in {item["event_id"]["S"] for item in audited}
    # Nothing old is left: the next sweep has nothing to do.
    assert fresh_lambda.invoke(scheduled_event()) == {"swept": 0}


def test_the_scheduled_event_runs_the_service_chores_before_the_sweep(
    fresh_lambda: LambdaHarness, aws: Any
) -> None:
    assert fresh_lambda.invoke({"action": "migrate"}) == {"migrated": "auth"}
    chores = fresh_lambda.module.app.state.runtime.chores
    ran: list[str] = []

    async def chore() -> None:
        ran.append("chore")

    async def broken() -> None:
        raise RuntimeError("the chore broke")

    chores[:] = [chore]
    assert fresh_lambda.invoke(scheduled_event()) == {"swept": 0}
    assert ran == ["chore"]
    # A broken chore stops neither the others nor the sweep, and fails the invocation.
    chores[:] = [broken, chore]
    with pytest.raises(ChoresFailed, match="1 of 2 chores failed"):
        fresh_lambda.invoke(scheduled_event())
    assert ran == ["chore", "chore"]


def test_dead_lettered_events_are_replayed_by_an_action(
    fresh_lambda: LambdaHarness, empty_database_url: str, aws: Any
) -> None:
    assert fresh_lambda.invoke({"action": "migrate"}) == {"migrated": "auth"}
    parked = insert_outbox_event(empty_database_url, age=timedelta(minutes=2))
    sql(
        empty_database_url,
        "UPDATE auth.outbox SET dead_lettered_at = now(), attempts = 10 WHERE id = $1",
        parked,
    )
    assert fresh_lambda.invoke(scheduled_event()) == {"swept": 0}  # left alone
    assert fresh_lambda.invoke({"action": "replay-outbox", "event_ids": [str(parked)]}) == {
        "replayed": 1
    }
    assert fresh_lambda.invoke(scheduled_event()) == {"swept": 1}


def test_a_sweep_that_cannot_deliver_fails_the_invocation(
    fresh_lambda: LambdaHarness, empty_database_url: str, aws: Any
) -> None:
    """Raised, so that the function's Errors alarm sees a lasting outage."""
    assert fresh_lambda.invoke({"action": "migrate"}) == {"migrated": "auth"}
    stuck = insert_outbox_event(empty_database_url, age=timedelta(minutes=2))
    aws.delete_table(TableName="test-audit")  # the audit trail is gone: nothing delivers

    with pytest.raises(OutboxDeliveryFailed, match=r"^1 outbox events still undeliverable"):
        fresh_lambda.invoke(scheduled_event())

    (row,) = sql(empty_database_url, "SELECT * FROM auth.outbox WHERE id = $1", stuck)
    assert row["delivered_at"] is None
    assert row["attempts"] == 0  # an unavailable audit table is not the event's fault
    assert row["next_attempt_at"] is not None
    assert "ResourceNotFoundException" in row["last_error"]


def test_migrate_action_builds_the_schema_and_ensures_the_bootstrap_admin(
    fresh_lambda: LambdaHarness, empty_database_url: str, bootstrap_email: str
) -> None:
    assert auth_tables(empty_database_url) == set()

    assert fresh_lambda.invoke({"action": "migrate"}) == {"migrated": "auth"}

    assert {"alembic_version", "users", "outbox"} <= auth_tables(empty_database_url)
    assert auth_revision(empty_database_url) == head_revision(MAIN_PY.parent / "alembic.ini")
    admin = me(fresh_lambda, login(fresh_lambda, bootstrap_email, BOOTSTRAP_PASSWORD))
    assert "admin" in admin["roles"]
    # Again, as every deploy does: nothing to migrate, the admin already there.
    assert fresh_lambda.invoke({"action": "migrate"}) == {"migrated": "auth"}


def custom_resource_event(request_type: str, version: str = "7") -> dict[str, Any]:
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:provider",
        "ResourceType": "Custom::ServiceMigrations",
        "LogicalResourceId": "MigrationsMigrations",
        "ResourceProperties": {
            "ServiceToken": "arn:provider",
            "action": "migrate",
            "version": version,
        },
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = "auth-migrate"
    return event


def test_deploy_trigger_migrates_on_create_and_keeps_the_schema_on_delete(
    fresh_lambda: LambdaHarness, empty_database_url: str, bootstrap_email: str
) -> None:
    assert auth_tables(empty_database_url) == set()

    create = custom_resource_event("Create")
    assert fresh_lambda.invoke(create) == {"PhysicalResourceId": "auth-migrate"}
    tables = auth_tables(empty_database_url)
    assert {"alembic_version", "users", "outbox"} <= tables
    login(fresh_lambda, bootstrap_email, BOOTSTRAP_PASSWORD)

    delete = custom_resource_event("Delete")
    assert fresh_lambda.invoke(delete) == {"PhysicalResourceId": "auth-migrate"}
    assert auth_tables(empty_database_url) == tables


def test_older_code_leaves_a_newer_database_alone(
    fresh_lambda: LambdaHarness, empty_database_url: str
) -> None:
    """CloudFormation rolling back to the previous version after a deploy whose migrations
    committed: the older bundle does not know the database's revision, and must not fail
    the rollback over it."""
    assert fresh_lambda.invoke({"action": "migrate"}) == {"migrated": "auth"}
    newer = "9999_from_a_newer_bundle"
    sql(empty_database_url, "UPDATE auth.alembic_version SET version_num = $1", newer)

    assert fresh_lambda.invoke({"action": "migrate"}) == {
        "migrated": "auth",
        "unknown_revisions": [newer],
    }
    rollback = custom_resource_event("Update", version="6")
    assert fresh_lambda.invoke(rollback) == {"PhysicalResourceId": "auth-migrate"}
    assert auth_revision(empty_database_url) == newer


def svc_auth_with(tmp_path: Path, upgrade: str) -> Path:
    """svc-auth's main.py and migrations, plus one more migration whose upgrade() is
    `upgrade` (indented lines)."""
    service = tmp_path / "svc-auth"
    service.mkdir()
    source = MAIN_PY.parent
    shutil.copy2(source / "main.py", service / "main.py")
    shutil.copy2(source / "alembic.ini", service / "alembic.ini")
    shutil.copytree(
        source / "alembic", service / "alembic", ignore=shutil.ignore_patterns("__pycache__")
    )
    head = head_revision(source / "alembic.ini")
    (service / "alembic" / "versions" / "0999_next.py").write_text(
        "from alembic import op\n\n"
        f"revision = '0999'\ndown_revision = {head!r}\n\n\n"
        f"def upgrade() -> None:\n{upgrade}\n"
    )
    return service


def test_a_failing_migration_fails_the_deploy_and_leaves_nothing_of_itself(
    tmp_path: Path, empty_database_url: str, environment: dict[str, str], aws: Any
) -> None:
    broken = svc_auth_with(
        tmp_path,
        '    op.execute("CREATE TABLE auth.half_done (id integer)")\n'
        '    op.execute("SELECT no_such_function()")',
    )
    with lambda_harness(
        broken / "main.py", {**environment, "DATABASE_URL": empty_database_url}
    ) as harness:
        with pytest.raises(Exception, match="no_such_function"):
            harness.invoke({"action": "migrate"})
        # The provider framework reports the raise to CloudFormation: the deploy fails.
        with pytest.raises(Exception, match="no_such_function"):
            harness.invoke(custom_resource_event("Create"))
    # Each migration commits on its own: the broken one left nothing, those before it stay
    # recorded (the code before this deploy works on them: migrations are additive first).
    assert "half_done" not in auth_tables(empty_database_url)
    assert auth_revision(empty_database_url) == head_revision(MAIN_PY.parent / "alembic.ini")


def test_a_migration_blocked_by_a_lock_fails_the_deploy_within_the_lock_timeout(
    fresh_lambda: LambdaHarness,
    tmp_path: Path,
    empty_database_url: str,
    environment: dict[str, str],
) -> None:
    """The deployed runner sets the lock timeout: an ALTER queued behind a long reader of
    the table gives up, instead of holding every request behind it."""
    assert fresh_lambda.invoke({"action": "migrate"}) == {"migrated": "auth"}
    alter = svc_auth_with(
        tmp_path, '    op.execute("ALTER TABLE auth.users ADD COLUMN nickname text")'
    )
    settings = {
        **environment,
        "DATABASE_URL": empty_database_url,
        "DATABASE_MIGRATION_LOCK_TIMEOUT_SECONDS": "1",
    }

    async def blocked_migration() -> float:
        reader = await connect(empty_database_url)
        try:
            # Ended by the server after 30 s, should the migration wait that long.
            await reader.execute("SET idle_in_transaction_session_timeout = '30s'")
            await reader.execute("BEGIN; SELECT * FROM auth.users")
            with lambda_harness(alter / "main.py", settings) as harness:
                started = time.monotonic()
                with pytest.raises(Exception, match="lock timeout"):
                    await asyncio.to_thread(harness.invoke, custom_resource_event("Update"))
                return time.monotonic() - started
        finally:
            await reader.close()

    assert asyncio.run(blocked_migration()) < 10
    assert auth_revision(empty_database_url) != "0999"


def test_migrations_run_with_their_timeouts_within_the_invocations_time(
    tmp_path: Path, empty_database_url: str, environment: dict[str, str], aws: Any
) -> None:
    record = svc_auth_with(
        tmp_path,
        "    op.execute(\"CREATE TABLE auth.seen AS SELECT current_setting('lock_timeout') AS\"\n"
        "               \" lock, current_setting('statement_timeout') AS statement\")",
    )
    with lambda_harness(
        record / "main.py", {**environment, "DATABASE_URL": empty_database_url}
    ) as harness:
        # 30 s left: no statement may outlast what the invocation keeps for the rest.
        assert harness.invoke({"action": "migrate"}) == {"migrated": "auth"}

    (seen,) = sql(empty_database_url, "SELECT * FROM auth.seen")
    assert (seen["lock"], seen["statement"]) == ("5s", "25s")


def test_unknown_payload_is_refused(lambda_: LambdaHarness) -> None:
    with pytest.raises(UnknownEventError):
        lambda_.invoke({"action": "dance"})
